/**
 * Errors raised by the ZeroMQ socket layer, in addition to those of `core`.
 *
 * @module
 */

import { ErrorCode, NetworkError } from '../../common/errors.ts'

/**
 * libzmq could not be loaded; `tried` lists every path with the reason it failed.
 *
 * @example
 * ```ts
 * import { LibzmqLoadError } from '@huly/network/rpc'
 * const error = new LibzmqLoadError('cannot load libzmq', ['/opt/libzmq.so: not found'])
 * console.assert(error.code === 'LIBZMQ_LOAD')
 * ```
 */
export class LibzmqLoadError extends NetworkError {
  /** Every candidate path that was tried, each with its failure. */
  readonly tried: readonly string[]

  /** Creates the error with the list of what was tried. */
  constructor(message: string, tried: readonly string[], options?: ErrorOptions) {
    super(message, ErrorCode.LibzmqLoad, options)
    this.tried = tried
  }
}

/**
 * A ROUTER could not deliver a message: no connected peer has its routing id.
 * The messages queued behind it for the same peer are dropped with it
 * (`discarded` tells how many), since they would fail the same way.
 *
 * @example
 * ```ts
 * import { PeerUnreachableError } from '@huly/network/rpc'
 * const error = new PeerUnreachableError(new Uint8Array([1, 2]), [new Uint8Array([1, 2])])
 * console.assert(error.code === 'PEER_UNREACHABLE')
 * ```
 */
export class PeerUnreachableError extends NetworkError {
  /** The routing id (first frame) the message was addressed to. */
  readonly routingId: Uint8Array
  /** The frames of the message that was not delivered. */
  readonly frames: readonly Uint8Array[]
  /** How many later messages queued for the same peer were dropped with this one. */
  readonly discarded: number

  /** Creates the error for a message that had no route. */
  constructor(
    routingId: Uint8Array,
    frames: readonly Uint8Array[],
    discarded = 0,
    options?: ErrorOptions,
  ) {
    super(`no connected peer with routing id ${hex(routingId)}`, ErrorCode.PeerUnreachable, options)
    this.routingId = routingId
    this.frames = frames
    this.discarded = discarded
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 32), (byte) => byte.toString(16).padStart(2, '0')).join('')
}
