// Shared by rpc/ and server/; not exported from any mod.ts (a module of the
// package, not of its API).
// A token bucket per peer: each peer may send `perSecond` requests a second on
// average and `burst` at once, so one peer cannot take the coordinator from others.
import type { TickManager } from '../common/clock.ts'

interface Bucket {
  tokens: number
  updated: number
}

/** Buckets kept before the full ones (of peers quiet long enough) are swept. */
const SWEEP_ABOVE = 10_000

/**
 * Token buckets keyed by peer. A bucket outlives the peer's connection (a peer
 * cannot refill it by reconnecting); full buckets, which hold no state, are swept
 * when there are many.
 */
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
      if (this.#buckets.size >= SWEEP_ABOVE) this.#sweep(now)
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

  #sweep(now: number): void {
    for (const [peer, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.updated) * this.#perMs >= this.#burst) {
        this.#buckets.delete(peer)
      }
    }
  }
}
