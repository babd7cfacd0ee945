/**
 * Limits of draining agents and moving containers.
 *
 * @module
 */

/**
 * How long a drain may take when no deadline is given, in milliseconds.
 *
 * @example
 * ```ts
 * import { DEFAULT_DRAIN_DEADLINE_MS } from '@huly/network/core'
 * console.log(DEFAULT_DRAIN_DEADLINE_MS) // 30000
 * ```
 */
export const DEFAULT_DRAIN_DEADLINE_MS = 30_000

/**
 * The largest state a container may hand over, encoded (MessagePack), in bytes.
 *
 * @example
 * ```ts
 * import { MAX_HAND_OVER_BYTES } from '@huly/network/core'
 * console.log(MAX_HAND_OVER_BYTES) // 1048576
 * ```
 */
export const MAX_HAND_OVER_BYTES = 1024 * 1024

/**
 * Bounds of the requests the coordinator holds for one container while it moves;
 * past either, a request fails at once with `LimitExceededError` (`held-requests`).
 *
 * @example
 * ```ts
 * import { HELD_REQUEST_LIMITS } from '@huly/network/core'
 * console.log(HELD_REQUEST_LIMITS.count, HELD_REQUEST_LIMITS.bytes) // 1024 16777216
 * ```
 */
export const HELD_REQUEST_LIMITS: Readonly<{ count: number; bytes: number }> = Object.freeze({
  count: 1024,
  bytes: 16 * 1024 * 1024,
})
