// What the rpc server admits: the limits against hostile peers that are checked
// before a message is decoded or a session is made (docs/limits.md), and the count
// of what each one refused.
import type { TickManager } from '../common/clock.ts'
import { LimitExceededError } from '../common/errors.ts'
import { decode } from './codec.ts'
import { Kind } from './_frames.ts'
import { defaultLimits, isHeaderOfKind, messageBytes, Refusals, type RpcLimits } from './limits.ts'
import { RateLimiter } from './rate_limiter.ts'

/** The first byte of a batch (rpc/_batch.ts); no rpc header starts with it. */
const BATCH_MARK = 0xc1

/** Limits whose refusal a well-behaved client may meet and retry after a while. */
const retryableLimits = new Set(['hello-rate', 'sessions', 'client-id'])

/** Whether a client may retry after `error` (a busy server, not a bad client). */
export function retryable(error: LimitExceededError): boolean {
  return retryableLimits.has(error.limit)
}

/** A refusal by `limit`; whoever catches it counts and logs it. */
export function limitExceeded(limit: string, message: string): LimitExceededError {
  return new LimitExceededError(limit, `${limit}: ${message}`)
}

/** The id of a request from its header frame alone, 0 when it is not a small request header. */
export function requestIdOf(header: Uint8Array): number {
  if (!isHeaderOfKind(header, Kind.request) || header.length > 64 * 1024) return 0
  try {
    const id = (decode(header) as unknown[])[1]
    return typeof id === 'number' ? id : 0
  } catch {
    return 0
  }
}

/** The server's limits, their rate limiters, and the count of refusals by limit. */
export class Admission {
  readonly limits: Required<RpcLimits>
  readonly #refusals = new Refusals()
  /** Hellos per connection, and per key. */
  readonly #hellos: RateLimiter
  readonly #keyHellos: RateLimiter
  /** Replies to messages without a session: one each, but not at any rate. */
  readonly #noSessionReplies: RateLimiter

  constructor(clock: TickManager, limits: RpcLimits | undefined) {
    this.limits = { ...defaultLimits, ...limits }
    const hellos = this.limits.hellosPerSecond
    this.#hellos = new RateLimiter(clock, hellos, 2 * hellos)
    // A key may have many connections: it gets ten times the rate of one.
    this.#keyHellos = new RateLimiter(clock, 10 * hellos, 20 * hellos)
    this.#noSessionReplies = new RateLimiter(clock, 1000, 1000)
  }

  /** Refusals so far by limit (a live view). */
  get counts(): Record<string, number> {
    return this.#refusals.counts
  }

  /** Counts and logs a refusal. */
  refuse(limit: string, message: string): void {
    this.#refusals.refuse(limit, message)
  }

  /**
   * What can be checked before a message is decoded: its size, a batch the socket
   * refused whole, the size of a hello. The refusal, counted, or `undefined`.
   */
  refusal(message: Uint8Array[]): LimitExceededError | undefined {
    if (message.length < 2) return undefined
    const bytes = messageBytes(message, 1)
    let error: LimitExceededError | undefined
    if (bytes > this.limits.maxMessageBytes) {
      error = limitExceeded(
        'message-bytes',
        `a message of ${bytes} bytes passes the limit of ${this.limits.maxMessageBytes}`,
      )
    } else if (message.length === 2 && message[1][0] === BATCH_MARK) {
      // The socket splits every batch within its limits: this one was refused whole.
      error = limitExceeded('batch', `a batch of ${bytes} bytes passes the limits of a batch`)
    } else if (
      isHeaderOfKind(message[1], Kind.hello) && message[1].length > this.limits.maxHelloBytes
    ) {
      error = limitExceeded(
        'hello-bytes',
        `a hello of ${message[1].length} bytes passes the limit of ${this.limits.maxHelloBytes}`,
      )
    }
    if (error !== undefined) this.#refusals.refuse(error.limit, error.message)
    return error
  }

  /** Hellos per second per connection and per key; throws a retryable refusal. */
  checkHelloRate(routingKey: string, userId: string): void {
    const perConnection = this.#hellos.take(routingKey)
    const perKey = userId === '' || this.#keyHellos.take(userId)
    if (!perConnection || !perKey) {
      throw limitExceeded(
        'hello-rate',
        `more than ${this.limits.hellosPerSecond} hellos/s on one connection or key`,
      )
    }
  }

  /** Throws when `served` sessions leave no room for a new one. */
  checkSessions(served: number): void {
    if (served >= this.limits.maxSessions) {
      throw limitExceeded('sessions', `this process serves ${this.limits.maxSessions} sessions`)
    }
  }

  /** Whether a message without a session may be answered; counts a refusal when not. */
  mayReplyWithoutSession(): boolean {
    if (this.#noSessionReplies.take('')) return true
    this.#refusals.refuse('no-session-replies', 'messages without a session, past 1000/s')
    return false
  }
}
