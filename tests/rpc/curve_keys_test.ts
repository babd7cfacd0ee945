// The JavaScript CURVE key helpers agree with libzmq's: the same public key of a
// secret key, the same Z85 text of the same bytes.
import assert from 'node:assert/strict'
import {
  assertZ85Key,
  curveKeyPair,
  curvePublicKey,
  z85Decode,
  z85Encode,
} from '../../rpc/curve_keys.ts'
import { InvalidArgumentError } from '../../common/errors.ts'
import { cString, fromCString, libzmq } from '../../rpc/zmq/_ffi.ts'

function libzmqPublicKey(secretKey: string): string {
  const publicKey = new Uint8Array(41)
  assert.equal(libzmq().zmq_curve_public(publicKey, cString(secretKey)), 0)
  return fromCString(publicKey)
}

function libzmqZ85(bytes: Uint8Array): string {
  const out = new Uint8Array((bytes.length * 5) / 4 + 1)
  libzmq().zmq_z85_encode(out, bytes, BigInt(bytes.length))
  return fromCString(out)
}

Deno.test('curvePublicKey gives the public key libzmq gives for random secret keys', () => {
  for (let round = 0; round < 20; round++) {
    const secretKey = z85Encode(crypto.getRandomValues(new Uint8Array(32)))
    assert.equal(curvePublicKey(secretKey), libzmqPublicKey(secretKey))
  }
})

Deno.test('a key pair made by libzmq has the public key curvePublicKey derives', () => {
  for (let round = 0; round < 5; round++) {
    const publicKey = new Uint8Array(41)
    const secretKey = new Uint8Array(41)
    assert.equal(libzmq().zmq_curve_keypair(publicKey, secretKey), 0)
    assert.equal(curvePublicKey(fromCString(secretKey)), fromCString(publicKey))
  }
})

Deno.test('curveKeyPair makes a pair libzmq agrees with', () => {
  const pair = curveKeyPair()
  assertZ85Key(pair.publicKey, 'publicKey')
  assertZ85Key(pair.secretKey, 'secretKey')
  assert.equal(libzmqPublicKey(pair.secretKey), pair.publicKey)
})

Deno.test('z85Encode writes what zmq_z85_encode writes, and z85Decode reads it back', () => {
  for (const size of [0, 4, 8, 32, 64, 400]) {
    const bytes = crypto.getRandomValues(new Uint8Array(size))
    const text = z85Encode(bytes)
    assert.equal(text, libzmqZ85(bytes))
    assert.deepEqual(z85Decode(text), bytes)
  }
  const extremes = Uint8Array.of(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff)
  assert.equal(z85Encode(extremes), libzmqZ85(extremes))
  assert.deepEqual(z85Decode(z85Encode(extremes)), extremes)
})

Deno.test('Z85 of the RFC 32 example is HelloWorld', () => {
  const bytes = Uint8Array.of(0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b)
  assert.equal(z85Encode(bytes), 'HelloWorld')
  assert.deepEqual(z85Decode('HelloWorld'), bytes)
})

Deno.test('Z85 refuses bad lengths, bad characters and groups above 32 bits', () => {
  assert.throws(() => z85Encode(new Uint8Array(3)), InvalidArgumentError)
  assert.throws(() => z85Decode('abcd'), InvalidArgumentError)
  assert.throws(() => z85Decode('abcd~'), InvalidArgumentError)
  assert.throws(() => z85Decode('abcd\u00e9'), InvalidArgumentError)
  assert.throws(() => z85Decode('#####'), InvalidArgumentError)
  assert.throws(() => curvePublicKey('short'), InvalidArgumentError)
})
