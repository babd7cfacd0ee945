// The requests held for one container while it moves: bounded by count and bytes,
// each within its own deadline, released in the order they came.
import type { TickManager } from '../common/clock.ts'
import { LimitExceededError, TimeoutError } from '../common/errors.ts'
import type { HeldRequestOutcome } from './types.ts'

interface Held {
  bytes: number
  since: number
  resolve: () => void
  reject: (error: Error) => void
  cleanup: () => void
}

/** Held requests of one moving container. */
export class HeldRequests {
  readonly #queue = new Set<Held>()
  #bytes = 0

  constructor(
    readonly clock: TickManager,
    readonly limits: { count: number; bytes: number },
    readonly onEnd: (outcome: HeldRequestOutcome, waitedMs: number) => void,
  ) {}

  /** Requests held now. */
  get size(): number {
    return this.#queue.size
  }

  /**
   * Resolves when the move ends; rejects with `TimeoutError` at the request's
   * deadline (or its signal's reason), or at once past the limits.
   */
  hold(uuid: string, bytes: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#queue.size >= this.limits.count || this.#bytes + bytes > this.limits.bytes) {
      this.onEnd('refused', 0)
      return Promise.reject(
        new LimitExceededError(
          'held-requests',
          `held-requests: "${uuid}" is moving and already has ${this.#queue.size} requests (${this.#bytes} bytes) waiting; the limits are ${this.limits.count} and ${this.limits.bytes} bytes`,
        ),
      )
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    const fail = (error: Error) => {
      if (!this.#queue.delete(held)) return
      this.#bytes -= bytes
      held.cleanup()
      this.onEnd('timeout', this.clock.now() - held.since)
      reject(error)
    }
    const timeout = () =>
      fail(
        new TimeoutError(`"${uuid}" was still moving at the request's deadline (${timeoutMs} ms)`),
      )
    const cancelTimer = this.clock.schedule(timeout, timeoutMs)
    const onAbort = () =>
      fail(
        signal!.reason instanceof Error ? signal!.reason : new TimeoutError(String(signal!.reason)),
      )
    signal?.addEventListener('abort', onAbort, { once: true })
    const held: Held = {
      bytes,
      since: this.clock.now(),
      resolve,
      reject,
      cleanup: () => {
        cancelTimer()
        signal?.removeEventListener('abort', onAbort)
      },
    }
    this.#queue.add(held)
    this.#bytes += bytes
    if (signal?.aborted) onAbort()
    return promise
  }

  /** The move ended: every held request goes on, in the order it came. */
  release(): void {
    const now = this.clock.now()
    for (const held of this.#queue) {
      held.cleanup()
      this.onEnd('released', now - held.since)
      held.resolve()
    }
    this.#queue.clear()
    this.#bytes = 0
  }
}
