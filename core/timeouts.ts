/**
 * Default timings of the network, in seconds.
 *
 * @module
 */
import { requirePositive, requireRecord } from '../common/validate.ts'

/**
 * The timings the network uses unless told otherwise, in seconds.
 *
 * @example
 * ```ts
 * import type { Timeouts } from '@huly/network/core'
 * const fast: Timeouts = { pingInterval: 0.5, aliveTimeout: 2, unusedContainerTimeout: 1, requestTimeout: 5 }
 * ```
 */
export interface Timeouts {
  /** How often peers ping and the network checks liveness. */
  pingInterval: number
  /** A peer silent for longer than this is dead. */
  aliveTimeout: number
  /** A container without references is terminated this long after its last release. */
  unusedContainerTimeout: number
  /** A request with no answer fails after this long. */
  requestTimeout: number
}

/**
 * Default timings: ping every 1 s, dead after 3 s of silence, an unused container
 * terminated after 5 s, a request timing out after 30 s.
 *
 * @example
 * ```ts
 * import { timeouts } from '@huly/network/core'
 * console.log('alive timeout:', timeouts.aliveTimeout, 'seconds') // 3
 * ```
 */
export const timeouts: Readonly<Timeouts> = Object.freeze({
  pingInterval: 1,
  aliveTimeout: 3,
  unusedContainerTimeout: 5,
  requestTimeout: 30,
})

/**
 * The defaults with `overrides` applied; every value must be a finite number > 0
 * (an `InvalidArgumentError` otherwise). Unknown names are ignored.
 *
 * @example
 * ```ts
 * import { resolveTimeouts } from '@huly/network/internal'
 * console.log(resolveTimeouts({ aliveTimeout: 10 }).aliveTimeout) // 10
 * ```
 */
export function resolveTimeouts(overrides?: Partial<Timeouts>): Readonly<Timeouts> {
  const given = requireRecord(overrides, 'timeouts') ?? {}
  const resolved = { ...timeouts }
  for (const name of Object.keys(timeouts) as Array<keyof Timeouts>) {
    if (given[name] !== undefined) resolved[name] = requirePositive(given[name], `timeouts.${name}`)
  }
  return Object.freeze(resolved)
}
