/**
 * Where a socket of either transport puts what it received, and where it reports
 * errors: to `onMessage` and `onError` when the options give them, else to a bounded
 * inbox read with `for await`, and to the log.
 *
 * @module
 */

import type { Logger } from '@logtape/logtape'
import { InvalidArgumentError, type NetworkError } from '../common/errors.ts'
import { Fifo } from './_fifo.ts'
import type { SocketOptions } from './zmq/types.ts'

/** Messages, and bytes, buffered for `for await` before the socket stops reading. */
const INBOX_LIMIT = 1024
const INBOX_BYTES = 1024 * 1024

/** The bytes of a message, over all its frames. */
export function messageBytes(frames: Uint8Array[]): number {
  let bytes = 0
  for (const frame of frames) bytes += frame.length
  return bytes
}

/** Delivers a socket's messages and reports its errors. */
export class Delivery {
  readonly #options: SocketOptions
  readonly #logger: Logger
  readonly #inbox = new Fifo<Uint8Array[]>()
  #inboxBytes = 0
  #readers: ((result: IteratorResult<Uint8Array[]>) => void)[] = []
  #ended = false

  /**
   * `wanted` is called when a reader waits on an empty inbox, and when a full inbox
   * has room again: the socket should read on.
   */
  constructor(options: SocketOptions, logger: Logger, readonly wanted: () => void) {
    this.#options = options
    this.#logger = logger
  }

  /** Whether the socket should stop reading: `for await` has a full inbox. */
  get full(): boolean {
    return this.#options.onMessage === undefined &&
      (this.#inbox.length >= INBOX_LIMIT || this.#inboxBytes >= INBOX_BYTES)
  }

  /** Hands one message to `onMessage`, a waiting reader, or the inbox. */
  deliver(frames: Uint8Array[], userId: string): void {
    const onMessage = this.#options.onMessage
    if (onMessage !== undefined) {
      try {
        onMessage(frames, userId)
      } catch (error) {
        this.#logger.error('onMessage threw: {error}', { error })
      }
      return
    }
    const reader = this.#readers.shift()
    if (reader !== undefined) reader({ value: frames, done: false })
    else {
      this.#inbox.push(frames)
      this.#inboxBytes += messageBytes(frames)
    }
  }

  /** Reports an error about one message or the socket to `onError`, or logs it. */
  report = (error: NetworkError): void => {
    const onError = this.#options.onError
    if (onError === undefined) {
      this.#logger.warn('socket error: {error}', { error })
      return
    }
    try {
      onError(error)
    } catch (thrown) {
      this.#logger.error('onError threw: {error}', { error: thrown })
    }
  }

  /** The `for await` reader; it ends after {@link end}. */
  iterator(): AsyncIterableIterator<Uint8Array[]> {
    if (this.#options.onMessage !== undefined) {
      throw new InvalidArgumentError('this socket delivers its messages to onMessage')
    }
    const next = (): Promise<IteratorResult<Uint8Array[]>> => {
      const value = this.#inbox.shift()
      if (value !== undefined) {
        const wasFull = this.full
        this.#inboxBytes -= messageBytes(value)
        if (wasFull && !this.full) this.wanted()
        return Promise.resolve({ value, done: false })
      }
      if (this.#ended) return Promise.resolve({ value: undefined, done: true })
      this.wanted()
      return new Promise((resolve) => this.#readers.push(resolve))
    }
    const iterator: AsyncIterableIterator<Uint8Array[]> = {
      next,
      return: () => Promise.resolve({ value: undefined, done: true }),
      [Symbol.asyncIterator]: () => iterator,
    }
    return iterator
  }

  /** The socket closed: waiting readers end, and so will later ones. */
  end(): void {
    this.#ended = true
    for (const reader of this.#readers.splice(0)) reader({ value: undefined, done: true })
  }
}
