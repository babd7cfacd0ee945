// Shared by rpc/ and server/; not exported from any mod.ts (a module of the
// package, not of its API).
// The limits the rpc layer enforces against hostile peers, for every transport, and
// the record of what they refused: a counter per limit and one log line per limit
// and interval, never one per refused message. docs/limits.md lists them all.
import { getLogger } from '@logtape/logtape'

const logger = getLogger(['huly-network', 'rpc', 'limits'])

/**
 * Limits an rpc server enforces against hostile peers before it decodes or works
 * (`docs/limits.md` lists every limit); every field has a default.
 *
 * @example
 * ```ts
 * import type { RpcLimits } from '@huly/network/rpc'
 * const limits: RpcLimits = { maxMessageBytes: 4 * 1024 * 1024, maxSessions: 1000 }
 * ```
 */
export interface RpcLimits {
  /** Bytes of one message, summed over its frames (16 MiB). */
  maxMessageBytes?: number
  /** Sessions one process serves at once (10 000). */
  maxSessions?: number
  /** Hellos per second one connection, or one key, may send (5, burst 10). */
  hellosPerSecond?: number
  /** Bytes of a hello's header frame, credentials included (16 KiB). */
  maxHelloBytes?: number
}

/**
 * The defaults of {@link RpcLimits}.
 *
 * @example
 * ```ts
 * import { defaultLimits } from '@huly/network/rpc'
 * console.log(defaultLimits.maxMessageBytes) // 16777216
 * ```
 */
export const defaultLimits: Required<RpcLimits> = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxSessions: 10_000,
  hellosPerSecond: 5,
  maxHelloBytes: 16 * 1024,
}

/** Seconds between two log lines about one limit. */
const LOG_EVERY_MS = 10_000

/** What the limits refused, by limit name; a log line per limit at most every 10 s. */
export class Refusals {
  readonly counts: Record<string, number> = {}
  readonly #loggedAt = new Map<string, { at: number; since: number }>()

  /** Counts a refusal of `limit`; logs it unless that limit was logged recently. */
  refuse(limit: string, detail: string): void {
    const count = (this.counts[limit] ?? 0) + 1
    this.counts[limit] = count
    const now = performance.now()
    const last = this.#loggedAt.get(limit)
    if (last !== undefined && now - last.at < LOG_EVERY_MS) return
    const since = last === undefined ? 0 : count - 1 - last.since
    this.#loggedAt.set(limit, { at: now, since: count })
    logger.warn('refused by limit {limit}: {detail} ({since} more since the last line)', {
      limit,
      detail,
      since,
    })
  }
}

/** Bytes of a message, summed over its frames. */
export function messageBytes(message: Uint8Array[], from = 0): number {
  let bytes = 0
  for (let i = from; i < message.length; i++) bytes += message[i].byteLength
  return bytes
}

/** Whether `frame` is a MessagePack header array of kind `kind` (without decoding it). */
export function isHeaderOfKind(frame: Uint8Array, kind: number): boolean {
  return frame.length > 1 && (frame[0] & 0xf0) === 0x90 && frame[1] === kind
}
