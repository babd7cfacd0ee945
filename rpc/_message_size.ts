// The largest message the rpc layer carries. Senders check it before sending, so an
// oversized message fails at once with a named error instead of being cut off by
// the receiver's socket, which would drop the connection and make the session
// re-send it after every reconnect.
import { MessageTooLargeError } from '../core/errors.ts'

/** The largest frame a sender sends (64 MiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024

/**
 * The largest frame a receiving socket reads. Above {@link MAX_MESSAGE_BYTES} so a
 * peer that does not check is answered and counted instead of disconnected.
 */
export const SOCKET_MAX_MESSAGE_BYTES = 2 * MAX_MESSAGE_BYTES

/** The largest frame of `message`, in bytes. */
export function largestFrame(message: readonly Uint8Array[]): number {
  let largest = 0
  for (const frame of message) largest = Math.max(largest, frame.byteLength)
  return largest
}

/** A {@link MessageTooLargeError} for `what` when a frame of `message` is over the limit. */
export function oversized(
  what: string,
  message: readonly Uint8Array[],
): MessageTooLargeError | undefined {
  const size = largestFrame(message)
  return size > MAX_MESSAGE_BYTES
    ? new MessageTooLargeError(what, size, MAX_MESSAGE_BYTES)
    : undefined
}
