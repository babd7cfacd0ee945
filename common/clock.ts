/**
 * The clock abstraction: every timer and timestamp of the network goes through a
 * {@link TickManager}, so tests drive time by hand with {@link ManualTickManager}.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import { InvalidArgumentError } from './errors.ts'
import { requireFunction, requirePositive } from './validate.ts'

const logger = getLogger(['huly-network', 'core', 'clock'])

/**
 * A periodic handler; a returned promise is awaited before its next run.
 *
 * @example
 * ```ts
 * import type { TickHandler } from '@huly/network/core'
 * const handler: TickHandler = () => console.log('tick')
 * ```
 */
export type TickHandler = () => void | Promise<void>

/**
 * Time for the network: the current time, periodic handlers, one-shot timers.
 *
 * @example
 * ```ts
 * import { type TickManager, TickManagerImpl } from '@huly/network/core'
 * const clock: TickManager = new TickManagerImpl(10)
 * const stop = clock.every(() => {}, 1000)
 * stop()
 * ```
 */
export interface TickManager {
  /** The current time in milliseconds since the epoch. */
  now(): number
  /** Runs `handler` every `intervalMs` milliseconds; returns the function that stops it. */
  every(handler: TickHandler, intervalMs: number): () => void
  /** Runs `handler` once after `delayMs`; returns the function that cancels it. */
  schedule(handler: () => void, delayMs: number): () => void
  /** Starts ticking. */
  start(): void
  /** Stops ticking and cancels every scheduled one-shot timer. */
  stop(): void
  /** Resolves after `ticks` ticks (default 1). */
  waitTick(ticks?: number): Promise<void>
}

interface Periodic {
  handler: TickHandler
  intervalMs: number
  nextAt: number
  running: boolean
}

/**
 * The bookkeeping both clocks share: periodic handlers due at a time, run in order,
 * one run at a time each, a throwing handler logged and never stopping the others.
 */
class PeriodicHandlers {
  readonly entries = new Set<Periodic>()

  add(handler: TickHandler, intervalMs: number, now: number): () => void {
    requireFunction<TickHandler>(handler, 'handler')
    requirePositive(intervalMs, 'intervalMs')
    const entry: Periodic = { handler, intervalMs, nextAt: now + intervalMs, running: false }
    this.entries.add(entry)
    return () => this.entries.delete(entry)
  }

  /** Runs every periodic handler that is due at `time`; resolves when they finish. */
  runDue(time: number): Promise<void> {
    const runs: Promise<void>[] = []
    for (const entry of this.entries) {
      if (entry.running || entry.nextAt > time) continue
      while (entry.nextAt <= time) entry.nextAt += entry.intervalMs
      runs.push(runPeriodic(entry))
    }
    return runs.length === 0 ? Promise.resolve() : Promise.all(runs).then(() => {})
  }
}

function requireTimer(handler: unknown, delayMs: unknown): void {
  requireFunction(handler, 'handler')
  if (typeof delayMs !== 'number' || !(delayMs >= 0)) {
    throw new InvalidArgumentError(`delayMs must be a number >= 0, got ${delayMs}`)
  }
}

async function runPeriodic(entry: Periodic): Promise<void> {
  entry.running = true
  try {
    await entry.handler()
  } catch (error) {
    logger.error('a periodic handler failed: {error}', { error })
  } finally {
    entry.running = false
  }
}

/**
 * The clock on real timers: ticks `ticksPerSecond` times a second and runs the
 * handlers that fall due.
 *
 * @example
 * ```ts
 * import { TickManagerImpl } from '@huly/network/core'
 * const clock = new TickManagerImpl(10)
 * clock.start()
 * await clock.waitTick(1)
 * clock.stop()
 * ```
 */
export class TickManagerImpl implements TickManager {
  #periodic = new PeriodicHandlers()
  private readonly tickMs: number
  private interval: ReturnType<typeof setInterval> | undefined
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private readonly tickWaiters: Array<{ remaining: number; resolve: () => void }> = []

  /** Creates a clock that ticks `ticksPerSecond` times per second. */
  constructor(ticksPerSecond: number) {
    requirePositive(ticksPerSecond, 'ticksPerSecond')
    if (ticksPerSecond > 1000) {
      throw new InvalidArgumentError(`ticksPerSecond must be at most 1000, got ${ticksPerSecond}`)
    }
    this.tickMs = 1000 / ticksPerSecond
  }

  /** The current time in milliseconds since the epoch. */
  now(): number {
    return Date.now()
  }

  /** Runs `handler` every `intervalMs` of clock time; returns the function that stops it. */
  every(handler: TickHandler, intervalMs: number): () => void {
    return this.#periodic.add(handler, intervalMs, this.now())
  }

  /** Runs `handler` once after `delayMs` on a real timer. */
  schedule(handler: () => void, delayMs: number): () => void {
    requireTimer(handler, delayMs)
    const id = setTimeout(() => {
      this.timers.delete(id)
      handler()
    }, delayMs)
    this.timers.add(id)
    return () => {
      clearTimeout(id)
      this.timers.delete(id)
    }
  }

  /** Starts ticking; starting twice is harmless. */
  start(): void {
    if (this.interval !== undefined) return
    this.interval = setInterval(() => this.#tick(), this.tickMs)
  }

  /** Stops ticking, cancels one-shot timers and releases every `waitTick`. */
  stop(): void {
    if (this.interval !== undefined) clearInterval(this.interval)
    this.interval = undefined
    for (const id of this.timers) clearTimeout(id)
    this.timers.clear()
    for (const waiter of this.tickWaiters.splice(0)) waiter.resolve()
  }

  /** Resolves after `ticks` ticks, or at once when the clock is stopped. */
  waitTick(ticks = 1): Promise<void> {
    if (this.interval === undefined) return Promise.resolve()
    return new Promise((resolve) => this.tickWaiters.push({ remaining: ticks, resolve }))
  }

  #tick(): void {
    void this.#periodic.runDue(this.now())
    for (let i = this.tickWaiters.length - 1; i >= 0; i--) {
      const waiter = this.tickWaiters[i]
      if (--waiter.remaining <= 0) {
        this.tickWaiters.splice(i, 1)
        waiter.resolve()
      }
    }
  }
}

/**
 * A clock for tests: time moves only when {@link ManualTickManager.advance} is
 * called, and everything that falls due runs in time order.
 *
 * @example
 * ```ts
 * import { ManualTickManager } from '@huly/network/core'
 * const clock = new ManualTickManager()
 * let runs = 0
 * clock.every(() => { runs++ }, 1000)
 * await clock.advance(3000)
 * console.assert(runs === 3)
 * ```
 */
export class ManualTickManager implements TickManager {
  #periodic = new PeriodicHandlers()
  private time: number
  private readonly tickMs: number
  private readonly timers = new Map<number, { at: number; handler: () => void }>()
  private nextTimerId = 1

  /** Creates a manual clock starting at `startTime` ms with `ticksPerSecond` ticks. */
  constructor(startTime = 1_000_000, ticksPerSecond = 10) {
    this.time = startTime
    this.tickMs = 1000 / requirePositive(ticksPerSecond, 'ticksPerSecond')
  }

  /** The current (manual) time in milliseconds. */
  now(): number {
    return this.time
  }

  /** Runs `handler` every `intervalMs` of clock time; returns the function that stops it. */
  every(handler: TickHandler, intervalMs: number): () => void {
    return this.#periodic.add(handler, intervalMs, this.now())
  }

  /** Runs `handler` when the clock has advanced by `delayMs`. */
  schedule(handler: () => void, delayMs: number): () => void {
    requireTimer(handler, delayMs)
    const id = this.nextTimerId++
    this.timers.set(id, { at: this.time + delayMs, handler })
    return () => this.timers.delete(id)
  }

  /** Nothing to start: time moves with {@link ManualTickManager.advance}. */
  start(): void {}

  /** Cancels one-shot timers. */
  stop(): void {
    this.timers.clear()
  }

  /** Advances the clock by `ticks` ticks. */
  waitTick(ticks = 1): Promise<void> {
    return this.advance(ticks * this.tickMs)
  }

  /**
   * Moves time forward by `ms`, running every periodic handler and timer that falls
   * due, in time order, and waiting for each step's handlers to finish.
   */
  async advance(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
      throw new InvalidArgumentError(`ms must be a finite number >= 0, got ${ms}`)
    }
    const target = this.time + ms
    for (;;) {
      const next = this.#nextDue()
      if (next === undefined || next > target) break
      this.time = next
      this.#runTimersDue(next)
      await this.#periodic.runDue(next)
      await flushMicrotasks()
    }
    this.time = target
    await flushMicrotasks()
  }

  #nextDue(): number | undefined {
    let next: number | undefined
    for (const entry of this.#periodic.entries) {
      if (next === undefined || entry.nextAt < next) next = entry.nextAt
    }
    for (const timer of this.timers.values()) {
      if (next === undefined || timer.at < next) next = timer.at
    }
    return next
  }

  #runTimersDue(time: number): void {
    const due = [...this.timers].filter(([, timer]) => timer.at <= time)
      .sort(([, a], [, b]) => a.at - b.at)
    for (const [id, timer] of due) {
      this.timers.delete(id)
      try {
        timer.handler()
      } catch (error) {
        logger.error('a timer handler failed: {error}', { error })
      }
    }
  }
}

/** Lets promise chains started by handlers settle before time moves on. */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}
