/**
 * NaCl's crypto_box as CurveZMQ uses it, from audited libraries: the shared key
 * of a box (crypto_box_beforenm: HSalsa20 of the X25519 secret) from
 * `@noble/curves` and `@noble/ciphers`, the box itself (XSalsa20-Poly1305, the
 * 16-byte tag first) from `tweetnacl` for small messages and `@noble/ciphers` for
 * large ones. X25519 is noble's because it is 2.5 times faster than tweetnacl's;
 * for the box each library wins on one side of 1 KiB (see `bench/curve_bench.ts`).
 *
 * @module
 */

import { x25519 } from '@noble/curves/ed25519.js'
import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js'
import nacl from 'tweetnacl'

/** "expand 32-byte k", the Salsa20 constant, as little-endian words. */
const SIGMA = Uint32Array.of(0x61707865, 0x3320646e, 0x79622d32, 0x6b206574)
const ZERO_NONCE = new Uint32Array(4)

/** A Curve25519 key pair of raw 32-byte keys. */
export interface BoxKeyPair {
  /** The public key (32 bytes). */
  readonly publicKey: Uint8Array
  /** The secret key (32 bytes). */
  readonly secretKey: Uint8Array
}

/** A fresh random key pair (CurveZMQ's short-term keys). */
export function boxKeyPair(): BoxKeyPair {
  const secretKey = randomBytes(32)
  return { publicKey: x25519.getPublicKey(secretKey), secretKey }
}

/** `length` bytes from the platform's CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length))
}

/**
 * The key of every box between `publicKey` and `secretKey` (crypto_box_beforenm),
 * or `null` when the public key is of low order (the X25519 secret is all zero),
 * which libsodium refuses too.
 */
export function boxKey(publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array | null {
  let shared: Uint8Array
  try {
    shared = x25519.getSharedSecret(secretKey, publicKey)
  } catch {
    return null
  }
  const words = new Uint32Array(8)
  hsalsa(SIGMA, new Uint32Array(Uint8Array.from(shared).buffer), ZERO_NONCE, words)
  shared.fill(0)
  return new Uint8Array(words.buffer)
}

/**
 * Below this many bytes tweetnacl's secretbox is faster, from it on noble's; both
 * are XSalsa20-Poly1305 and give the same bytes (measured in `bench/curve_bench.ts`).
 */
const NOBLE_FROM = 1024

/** Seals `plaintext` under `key` and a 24-byte nonce: tag (16 bytes), then ciphertext. */
export function seal(plaintext: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  if (plaintext.length >= NOBLE_FROM) return xsalsa20poly1305(key, nonce).encrypt(plaintext)
  return nacl.secretbox(plaintext, nonce, key)
}

/** Opens a box made by {@link seal}; `null` when it does not authenticate. */
export function open(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  if (box.length < 16) return null
  if (box.length - 16 < NOBLE_FROM) return nacl.secretbox.open(box, nonce, key)
  try {
    return xsalsa20poly1305(key, nonce).decrypt(box)
  } catch {
    return null
  }
}
