/**
 * The send queue of a socket: messages `send()` accepted that libzmq has not
 * taken yet, and how they are handed to libzmq without waiting.
 *
 * @module
 */

import { ErrorCode, NetworkError } from '../../common/errors.ts'
import { takeBatch } from '../_batch.ts'
import { EHOSTUNREACH } from './_constants.ts'
import { errorText } from './_ffi.ts'
import { Fifo } from '../_fifo.ts'
import type { NativeSocket } from './_native.ts'
import { PeerUnreachableError } from './errors.ts'

/** Receives the errors about single messages (sent to `onError`). */
export type SendErrorReporter = (error: NetworkError) => void

/** Messages waiting for libzmq, drained by the socket's pump. */
export interface SendQueue {
  /** Messages queued and not yet taken by libzmq. */
  readonly length: number
  /**
   * Whether messages wait for a peer whose pipe was full. Such a peer frees up
   * with no event of its own (the fd may have fired for another reason while the
   * pump was busy), so the socket asks the reactor to retry it soon.
   */
  readonly needsRetry: boolean
  /** Queues a message. */
  push(frames: Uint8Array[]): void
  /**
   * Hands messages to libzmq until it pushes back or `budget` messages were
   * handled (sent, or failed and reported); returns how many were.
   */
  flush(native: NativeSocket, budget: number, report: SendErrorReporter): number
  /** Drops every queued message. */
  clear(): void
}

/** The error for a message libzmq refused with `errno` (other than EAGAIN). */
export function sendError(frames: Uint8Array[], errno: number, discarded = 0): NetworkError {
  if (errno === EHOSTUNREACH) return new PeerUnreachableError(frames[0], frames, discarded)
  return new NetworkError(`send failed: ${errorText(errno)}`, ErrorCode.Zmq)
}

/**
 * One queue for the whole socket, drained in order; when libzmq pushes back the
 * whole queue waits for the socket's fd. Right for a DEALER, whose push-back is
 * socket-wide and lifted by a command that fires the fd.
 */
export class SocketSendQueue implements SendQueue {
  #messages = new Fifo<Uint8Array[]>()
  #batch: boolean
  /** The message being handed over (the oldest, or a batch of the oldest), and how many it carries. */
  #current: Uint8Array[] | null = null
  #currentCount = 0
  /** Frames of the current message libzmq already took. */
  #frame = 0

  /** With `batch`, several queued messages leave as one batch (see `../_batch.ts`). */
  constructor(batch = false) {
    this.#batch = batch
  }

  get length(): number {
    return this.#messages.length
  }

  get needsRetry(): boolean {
    return false
  }

  push(frames: Uint8Array[]): void {
    this.#messages.push(frames)
  }

  flush(native: NativeSocket, budget: number, report: SendErrorReporter): number {
    let handled = 0
    while (handled < budget) {
      let frames = this.#current
      if (frames === null) {
        const oldest = this.#messages.peek()
        if (oldest === undefined) break
        const batch = this.#batch ? takeBatch(this.#messages, 0, budget - handled) : null
        frames = this.#current = batch?.frames ?? oldest
        this.#currentCount = batch?.count ?? 1
      }
      const last = frames.length - 1
      while (this.#frame <= last) {
        const status = native.sendFrame(frames[this.#frame], this.#frame < last)
        if (status === 'again') return handled
        if (status !== 'sent') {
          report(sendError(frames, status))
          break
        }
        this.#frame++
      }
      for (let i = 0; i < this.#currentCount; i++) this.#messages.shift()
      handled += this.#currentCount
      this.#current = null
      this.#frame = 0
    }
    return handled
  }

  clear(): void {
    this.#messages.clear()
    this.#current = null
    this.#frame = 0
  }
}
