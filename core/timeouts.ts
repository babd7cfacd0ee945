/**
 * Default timings of the network, in milliseconds.
 *
 * @module
 */
import { InvalidArgumentError } from '../common/errors.ts'
import { requirePositive, requireRecord } from '../common/validate.ts'

/**
 * The timings the network uses unless told otherwise, in milliseconds.
 *
 * @example
 * ```ts
 * import type { Timeouts } from '@huly/network/core'
 * const fast: Timeouts = {
 *   pingIntervalMs: 500,
 *   aliveTimeoutMs: 2_000,
 *   unusedContainerTimeoutMs: 1_000,
 *   requestTimeoutMs: 5_000,
 * }
 * ```
 */
export interface Timeouts {
  /** How often peers ping and the network checks liveness, in milliseconds. */
  pingIntervalMs: number
  /** A peer silent for longer than this many milliseconds is dead. */
  aliveTimeoutMs: number
  /** A container without references is terminated this many milliseconds after its last release. */
  unusedContainerTimeoutMs: number
  /** A request with no answer fails after this many milliseconds. */
  requestTimeoutMs: number
}

/**
 * Default timings: ping every 1 s, dead after 3 s of silence, an unused container
 * terminated after 5 s, a request timing out after 30 s.
 *
 * @example
 * ```ts
 * import { timeouts } from '@huly/network/core'
 * console.log('alive timeout:', timeouts.aliveTimeoutMs, 'ms') // 3000
 * ```
 */
export const timeouts: Readonly<Timeouts> = Object.freeze({
  pingIntervalMs: 1_000,
  aliveTimeoutMs: 3_000,
  unusedContainerTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
})

/**
 * The defaults with `overrides` applied; every value must be a finite number > 0,
 * and every name one of {@link Timeouts} (an `InvalidArgumentError` otherwise,
 * which names the new name of a timing given in seconds, such as `aliveTimeout`).
 *
 * @example
 * ```ts
 * import { resolveTimeouts } from '@huly/network/internal'
 * console.log(resolveTimeouts({ aliveTimeoutMs: 10_000 }).aliveTimeoutMs) // 10000
 * ```
 */
export function resolveTimeouts(overrides?: Partial<Timeouts>): Readonly<Timeouts> {
  const given = requireRecord(overrides, 'timeouts') ?? {}
  const resolved = { ...timeouts }
  for (const [name, value] of Object.entries(given)) {
    if (!Object.hasOwn(timeouts, name)) {
      const inMs = `${name}Ms`
      throw new InvalidArgumentError(
        Object.hasOwn(timeouts, inMs)
          ? `timeouts.${name} (seconds) is now timeouts.${inMs}, in milliseconds`
          : `timeouts.${name} is not a timing; they are ${Object.keys(timeouts).join(', ')}`,
      )
    }
    if (value !== undefined) {
      resolved[name as keyof Timeouts] = requirePositive(value, `timeouts.${name}`)
    }
  }
  return Object.freeze(resolved)
}
