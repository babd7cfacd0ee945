/**
 * huly.net's helpers: mutable timeouts in seconds, ids, grouping and its two
 * tick managers, on this library's clock interface.
 *
 * @module
 */
import { TickManagerImpl as ModernTickManager } from '../common/clock.ts'
import type { TickHandler, TickManager } from '../common/clock.ts'
import type { ContainerUuid } from '../core/types.ts'
import { InvalidArgumentError } from '../common/errors.ts'
import { getLogger } from '@logtape/logtape'

const logger = getLogger(['huly-network', 'compat'])

/**
 * Timings in seconds, read when a network or client is created. Mutable, as in
 * huly.net: set them before creating the network.
 *
 * @example
 * ```ts
 * import { timeouts } from '@huly/network/compat'
 * timeouts.aliveTimeout = 3
 * ```
 */
export const timeouts: {
  aliveTimeout: number
  unusedContainerTimeout: number
  pingInterval: number
} = {
  aliveTimeout: 3,
  unusedContainerTimeout: 5,
  pingInterval: 1,
}

// huly.net's timings (seconds, `timeouts` as set now) as the library's options
// (milliseconds), with `aliveTimeout` in seconds when a caller gives its own.
export function modernTimeouts(aliveTimeout: number = timeouts.aliveTimeout): {
  aliveTimeoutMs: number
  pingIntervalMs: number
  unusedContainerTimeoutMs: number
} {
  return {
    aliveTimeoutMs: aliveTimeout * 1000,
    pingIntervalMs: timeouts.pingInterval * 1000,
    unusedContainerTimeoutMs: timeouts.unusedContainerTimeout * 1000,
  }
}

/**
 * A new random container uuid.
 *
 * @example
 * ```ts
 * import { containerUuid } from '@huly/network/compat'
 * console.assert(containerUuid() !== containerUuid())
 * ```
 */
export function containerUuid(): ContainerUuid {
  return crypto.randomUUID() as ContainerUuid
}

/**
 * A container uuid made of a prefix and an id: `prefix_id`.
 *
 * @example
 * ```ts
 * import { composeCID } from '@huly/network/compat'
 * console.assert(composeCID('session', '42') === 'session_42')
 * ```
 */
export function composeCID(prefix: string, id: string): ContainerUuid {
  return `${prefix}_${id}` as ContainerUuid
}

/**
 * The items of `array` grouped by key, in order.
 *
 * @example
 * ```ts
 * import { groupByArray } from '@huly/network/compat'
 * console.assert(groupByArray([1, 2, 3], (n) => n % 2).get(1)?.length === 2)
 * ```
 */
export function groupByArray<T, K>(array: T[], keyProvider: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>()
  for (const item of array) {
    const key = keyProvider(item)
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [item])
    else group.push(item)
  }
  return groups
}

/**
 * The real clock with huly.net's `tps` property: `new TickManagerImpl(ticksPerSecond)`,
 * handlers registered with an interval in seconds.
 *
 * @example
 * ```ts
 * import { TickManagerImpl } from '@huly/network/compat'
 * const tick = new TickManagerImpl(10)
 * tick.start()
 * tick.stop()
 * ```
 */
export class TickManagerImpl extends ModernTickManager {
  /** Ticks per second. */
  readonly tps: number

  /** A clock ticking `tps` times a second (1 to 1000). */
  constructor(tps: number) {
    if (!(tps >= 1 && tps <= 1000)) {
      throw new InvalidArgumentError(
        'Ticks per second has an invalid value: must be >= 1 && <= 1000',
      )
    }
    super(tps)
    this.tps = tps
  }

  /** Runs `handler` every `interval` seconds (a finite number >= 1). */
  register(handler: TickHandler, interval: number): () => void {
    if (!Number.isFinite(interval) || interval < 1) {
      throw new InvalidArgumentError('Interval must be a finite number >= 1 (seconds)')
    }
    return this.every(handler, interval * 1000)
  }

  /** Resolves after `ticks` ticks (>= 1). */
  override waitTick(ticks = 1): Promise<void> {
    if (!(ticks >= 1)) return Promise.reject(new InvalidArgumentError('Ticks must be >= 1'))
    return super.waitTick(ticks)
  }
}

/**
 * A clock for tests: time moves only by `setTime`, and `execAll` runs every
 * registered handler (and the timers that are due) once.
 *
 * @example
 * ```ts
 * import { FakeTickManager } from '@huly/network/compat'
 * const tick = new FakeTickManager()
 * let runs = 0
 * tick.register(() => { runs++ }, 1)
 * tick.setTime(5000)
 * await tick.execAll()
 * console.assert(runs === 1 && tick.now() === 5000)
 * ```
 */
export class FakeTickManager implements TickManager {
  /** Ticks per second (1, as in huly.net). */
  tps = 1
  #time = 0
  readonly #handlers = new Set<{ handler: TickHandler }>()
  readonly #timers = new Set<{ at: number; handler: () => void }>()

  /** The time set last, in milliseconds (0 at first). */
  now(): number {
    return this.#time
  }

  /** Sets the time, in milliseconds. */
  setTime(time: number): void {
    this.#time = time
  }

  /** Registers `handler`; the interval (seconds) is ignored: `execAll` runs it. */
  register(handler: TickHandler, _interval: number): () => void {
    return this.every(handler, 0)
  }

  /** Registers `handler`; the interval (milliseconds) is ignored: `execAll` runs it. */
  every(handler: TickHandler, _intervalMs: number): () => void {
    const entry = { handler }
    this.#handlers.add(entry)
    return () => this.#handlers.delete(entry)
  }

  /** Runs `handler` at the first `execAll` at or after `delayMs` from now. */
  schedule(handler: () => void, delayMs: number): () => void {
    const entry = { at: this.#time + delayMs, handler }
    this.#timers.add(entry)
    return () => this.#timers.delete(entry)
  }

  /** Runs the due timers, then every registered handler once, in order. */
  async execAll(): Promise<void> {
    for (const timer of [...this.#timers]) {
      if (timer.at > this.#time) continue
      this.#timers.delete(timer)
      try {
        timer.handler()
      } catch (error) {
        logger.error('a timer failed: {error}', { error })
      }
    }
    for (const { handler } of [...this.#handlers]) await handler()
  }

  /** Does nothing: time is set by hand. */
  start(): void {}

  /** Forgets the timers. */
  stop(): void {
    this.#timers.clear()
  }

  /** Resolves at once: ticks do not pass by themselves. */
  waitTick(_ticks?: number): Promise<void> {
    return Promise.resolve()
  }
}
