/**
 * CURVE key helpers (Z85-encoded Curve25519 keys, as libzmq expects them).
 *
 * @module
 */

import { InvalidArgumentError, NetworkError } from '../../core/errors.ts'
import { cString, fromCString, libzmq } from './_ffi.ts'
import type { CurveKeyPair } from './types.ts'

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/

/**
 * Makes a new CURVE key pair with libzmq (`zmq_curve_keypair`).
 *
 * @example
 * ```ts
 * import { curveKeyPair } from '@huly/network/rpc'
 * const { publicKey, secretKey } = curveKeyPair()
 * console.assert(publicKey.length === 40 && secretKey.length === 40)
 * ```
 */
export function curveKeyPair(): CurveKeyPair {
  const zmq = libzmq()
  const publicKey = new Uint8Array(41)
  const secretKey = new Uint8Array(41)
  if (zmq.zmq_curve_keypair(publicKey, secretKey) !== 0) {
    throw new NetworkError('zmq_curve_keypair failed: libzmq was built without CURVE', 'ZMQ')
  }
  return { publicKey: fromCString(publicKey), secretKey: fromCString(secretKey) }
}

/**
 * Derives the public key of a Z85 CURVE secret key (`zmq_curve_public`).
 *
 * @example
 * ```ts
 * import { curveKeyPair, curvePublicKey } from '@huly/network/rpc'
 * const pair = curveKeyPair()
 * console.assert(curvePublicKey(pair.secretKey) === pair.publicKey)
 * ```
 */
export function curvePublicKey(secretKey: string): string {
  assertZ85Key(secretKey, 'secretKey')
  const publicKey = new Uint8Array(41)
  if (libzmq().zmq_curve_public(publicKey, cString(secretKey)) !== 0) {
    throw new NetworkError('zmq_curve_public failed: libzmq was built without CURVE', 'ZMQ')
  }
  return fromCString(publicKey)
}

/** Throws an {@link InvalidArgumentError} unless `key` is 40 Z85 characters. */
export function assertZ85Key(key: string, name: string): void {
  if (typeof key !== 'string' || !Z85_KEY.test(key)) {
    throw new InvalidArgumentError(`${name} must be a 40-character Z85 CURVE key`)
  }
}

/** Z85-encodes bytes whose length is a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil((bytes.length * 5) / 4) + 1)
  libzmq().zmq_z85_encode(out, bytes, BigInt(bytes.length))
  return fromCString(out)
}
