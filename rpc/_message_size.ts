// The largest message the rpc layer sends. Senders check it before sending, so an
// oversized message fails at once with a named error instead of being refused by
// the receiver (which counts it and answers LimitExceededError).
import { MessageTooLargeError } from '../common/errors.ts'
import { defaultLimits, messageBytes } from './limits.ts'

/** The largest message a sender sends: the receivers' default limit (16 MiB). */
export const MAX_MESSAGE_BYTES: number = defaultLimits.maxMessageBytes

/** A {@link MessageTooLargeError} for `what` when `message` is over the limit, in all its frames. */
export function oversized(
  what: string,
  message: Uint8Array[],
): MessageTooLargeError | undefined {
  const size = messageBytes(message)
  return size > MAX_MESSAGE_BYTES
    ? new MessageTooLargeError(what, size, MAX_MESSAGE_BYTES)
    : undefined
}
