// A token bucket per peer: each peer may send `perSecond` requests a second on
// average and `burst` at once, so one peer cannot take the coordinator from others.
import type { TickManager } from '../core/clock.ts'

interface Bucket {
  tokens: number
  updated: number
}

/** Token buckets keyed by peer; buckets of peers gone quiet are forgotten. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>()
  readonly #clock: TickManager
  readonly #perMs: number
  readonly #burst: number

  constructor(clock: TickManager, readonly perSecond: number, burst = perSecond) {
    this.#clock = clock
    this.#perMs = perSecond / 1000
    this.#burst = Math.max(1, burst)
  }

  /** Takes one token of `peer`'s bucket; false when it is empty. */
  take(peer: string): boolean {
    const now = this.#clock.now()
    let bucket = this.#buckets.get(peer)
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, updated: now }
      this.#buckets.set(peer, bucket)
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.updated) * this.#perMs)
      bucket.updated = now
    }
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  /** Forgets a peer (its session ended). */
  forget(peer: string): void {
    this.#buckets.delete(peer)
  }
}
