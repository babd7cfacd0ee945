/**
 * Errors on the wire, both ways: an error becomes its name, message and code in a
 * `fail` frame ({@link describeError}), and comes back as the same class when it is
 * one of ours ({@link errorFromWire}).
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import {
  errorsOfOneMessage,
  LimitExceededError,
  markedRemote,
  MessageTooLargeError,
  NetworkError,
  RemoteError,
} from '../common/errors.ts'

const logger = getLogger(['huly-network', 'rpc', 'session'])

const sameClassAcrossTheWire: Record<string, (message: string) => NetworkError | undefined> = {
  LimitExceededError: (message) => new LimitExceededError(message.split(':')[0], message),
  MessageTooLargeError: messageTooLarge,
}
for (const Class of errorsOfOneMessage) {
  sameClassAcrossTheWire[Class.name] = (message) => new Class(message)
}

/**
 * Rebuilds an error that came over the wire as its name, message and code: as the
 * same class when name and code are one of this library's errors (its `remote` is
 * then true), as a {@link RemoteError} otherwise, like nats.js's `parse()`.
 *
 * @example
 * ```ts
 * import { ContainerNotFoundError, RemoteError } from '@huly/network/core'
 * import { errorFromWire } from '@huly/network/internal'
 * const ours = errorFromWire('ContainerNotFoundError', 'no c1', 'CONTAINER_NOT_FOUND')
 * console.assert(ours instanceof ContainerNotFoundError && ours.remote)
 * console.assert(errorFromWire('TypeError', 'x is not a function', '') instanceof RemoteError)
 * ```
 */
export function errorFromWire(name: string, message: string, code: string): NetworkError {
  const rebuild = Object.hasOwn(sameClassAcrossTheWire, name)
    ? sameClassAcrossTheWire[name]
    : undefined
  const error = rebuild?.(message)
  if (error === undefined || error.code !== code) return new RemoteError(name, message, code)
  return markedRemote(error)
}

/** A MessageTooLargeError from its own message, whose sizes it gives back. */
function messageTooLarge(message: string): NetworkError | undefined {
  const parts = /^(.*) is (\d+) bytes, over the limit of (\d+) bytes/s.exec(message)
  if (parts === null) return undefined
  return new MessageTooLargeError(parts[1], Number(parts[2]), Number(parts[3]))
}

/** The name, message and code of an error, for the wire (remote errors keep theirs). */
export function describeError(error: unknown): { name: string; message: string; code: string } {
  if (error instanceof RemoteError) {
    return { name: error.remoteName, message: error.message, code: error.code }
  }
  if (error instanceof NetworkError) {
    return { name: error.name, message: error.message, code: error.code }
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { name: error.name, message: error.message, code: typeof code === 'string' ? code : '' }
  }
  logger.debug('a handler rejected with a non-error value')
  return { name: 'Error', message: String(error), code: '' }
}
