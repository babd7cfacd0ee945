// The answers a session keeps so that a request re-sent after a reconnect is answered
// again instead of run twice (see session.ts).
import { ErrorCode } from '../common/errors.ts'
import { frames, Kind } from './_frames.ts'

/** Ids of forgotten answers kept per session (a few hundred KiB at most). */
const MAX_FORGOTTEN = 65_536

function messageSize(message: Uint8Array[]): number {
  let size = 0
  for (const frame of message) size += frame.byteLength
  return size
}

/**
 * Recent answers by request id, bounded in count and bytes, oldest out first. An
 * answer pushed out is remembered as "forgotten": its request never runs again.
 */
export class AnswerCache {
  readonly #answered = new Map<number, Uint8Array[]>()
  /** Ids run, not acknowledged, whose answers the cache had no room for. */
  readonly #forgotten = new Set<number>()
  #bytes = 0

  constructor(readonly maxCount: number, readonly maxBytes: number) {}

  /** Answers kept. */
  get size(): number {
    return this.#answered.size
  }

  /** The answer kept for `id`, if any. */
  get(id: number): Uint8Array[] | undefined {
    return this.#answered.get(id)
  }

  /** Whether `id` ran and its answer was pushed out. */
  forgot(id: number): boolean {
    return this.#forgotten.has(id)
  }

  /** Keeps the answer `message` to request `id` (only "answered" when too large). */
  remember(id: number, message: Uint8Array[]): void {
    let size = messageSize(message)
    if (size > this.maxBytes) {
      message = frames({
        kind: Kind.fail,
        id,
        name: 'ProtocolError',
        message: 'the answer was sent once and is too large to send again',
        code: ErrorCode.AnswerGone,
      })
      size = messageSize(message)
    }
    this.#answered.set(id, message)
    this.#bytes += size
    while (this.#answered.size > this.maxCount || this.#bytes > this.maxBytes) {
      const [oldest, kept] = this.#answered.entries().next().value!
      this.#answered.delete(oldest)
      this.#bytes -= messageSize(kept)
      this.#forgotten.add(oldest)
    }
    if (this.#forgotten.size > MAX_FORGOTTEN) {
      this.#forgotten.delete(this.#forgotten.values().next().value!)
    }
  }

  /**
   * Forgets what the peer says it has settled (ids up to `ack`), from the oldest;
   * answers finish nearly in id order, so this stops at the first newer one.
   */
  forgetUpTo(ack: number): void {
    for (const id of this.#forgotten) {
      if (id > ack) break
      this.#forgotten.delete(id)
    }
    for (const [id, message] of this.#answered) {
      if (id > ack) return
      this.#answered.delete(id)
      this.#bytes -= messageSize(message)
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.#answered.clear()
    this.#forgotten.clear()
    this.#bytes = 0
  }
}
