/**
 * CURVE keys for both transports: Curve25519 key pairs in Z85 text (ZeroMQ RFC
 * 32), as libzmq reads and writes them. X25519 comes from `@noble/curves`; the
 * Z85 codec is here.
 *
 * @module
 */

import { x25519 } from '@noble/curves/ed25519.js'
import { InvalidArgumentError } from '../common/errors.ts'

/** A CURVE Z85 key pair. */
export interface CurveKeyPair {
  /** The public key, 40 Z85 characters. */
  publicKey: string
  /** The secret key, 40 Z85 characters. */
  secretKey: string
}

const Z85_ALPHABET =
  '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#'
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/
const Z85_VALUES = new Int8Array(128).fill(-1)
for (let index = 0; index < Z85_ALPHABET.length; index++) {
  Z85_VALUES[Z85_ALPHABET.charCodeAt(index)] = index
}

/**
 * Makes a new CURVE key pair (random secret key, its X25519 public key).
 *
 * @example
 * ```ts
 * import { curveKeyPair } from '@huly/network/rpc'
 * const { publicKey, secretKey } = curveKeyPair()
 * console.assert(publicKey.length === 40 && secretKey.length === 40)
 * ```
 */
export function curveKeyPair(): CurveKeyPair {
  const secretKey = crypto.getRandomValues(new Uint8Array(32))
  return { publicKey: z85Encode(x25519.getPublicKey(secretKey)), secretKey: z85Encode(secretKey) }
}

/**
 * Derives the public key of a Z85 CURVE secret key (what libzmq's
 * `zmq_curve_public` gives).
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
  return z85Encode(x25519.getPublicKey(z85Decode(secretKey)))
}

/** Throws an {@link InvalidArgumentError} unless `key` is 40 Z85 characters. */
export function assertZ85Key(key: string, name: string): void {
  if (typeof key !== 'string' || !Z85_KEY.test(key)) {
    throw new InvalidArgumentError(`${name} must be a 40-character Z85 CURVE key`)
  }
}

/** Z85-encodes bytes whose length is a multiple of 4 (RFC 32: `864FD26FB559F75B` is `HelloWorld`). */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) {
    throw new InvalidArgumentError('Z85 encodes whole groups of 4 bytes')
  }
  let text = ''
  for (let offset = 0; offset < bytes.length; offset += 4) {
    let value = bytes[offset] * 0x1000000 +
      ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3])
    const group = new Array<string>(5)
    for (let digit = 4; digit >= 0; digit--) {
      group[digit] = Z85_ALPHABET[value % 85]
      value = Math.floor(value / 85)
    }
    text += group.join('')
  }
  return text
}

/**
 * Decodes Z85 text whose length is a multiple of 5 (RFC 32); throws an
 * {@link InvalidArgumentError} on any other character or an overflowing group.
 */
export function z85Decode(text: string): Uint8Array {
  if (typeof text !== 'string' || text.length % 5 !== 0) {
    throw new InvalidArgumentError('Z85 text must be whole groups of 5 characters')
  }
  const bytes = new Uint8Array((text.length / 5) * 4)
  for (let group = 0; group < text.length / 5; group++) {
    let value = 0
    for (let digit = 0; digit < 5; digit++) {
      const code = text.charCodeAt(group * 5 + digit)
      const digitValue = code < 128 ? Z85_VALUES[code] : -1
      if (digitValue < 0) throw new InvalidArgumentError('invalid character in Z85 text')
      value = value * 85 + digitValue
    }
    if (value > 0xffffffff) throw new InvalidArgumentError('Z85 group exceeds 32 bits')
    const offset = group * 4
    bytes[offset] = value >>> 24
    bytes[offset + 1] = (value >>> 16) & 0xff
    bytes[offset + 2] = (value >>> 8) & 0xff
    bytes[offset + 3] = value & 0xff
  }
  return bytes
}
