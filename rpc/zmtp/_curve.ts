/**
 * The CURVE mechanism (CurveZMQ, ZeroMQ RFC 26) as libzmq 4.3 speaks it.
 *
 * Keys: the server's long-term pair (S, s), the client's (C, c), and a short-term
 * pair per connection on each side (C', c' and S', s'). Handshake:
 *
 * - HELLO (client): version 1.0, 72 zero bytes of anti-amplification padding, C',
 *   short nonce, Box[64 zero bytes](C'->S).
 * - WELCOME (server): long nonce, Box[S' + cookie](S->C'); the cookie is
 *   SecretBox[C' + s'](t) under a key t made for this connection, so the server
 *   keeps no state it could not rebuild from INITIATE.
 * - INITIATE (client): the cookie, short nonce, Box[C + vouch + metadata](C'->S'),
 *   with vouch = Box[C' + S](C->S') proving the client holds c.
 * - READY (server): short nonce, Box[metadata](S'->C'); or ERROR when ZAP refuses.
 *
 * Short nonces count up from 1 on each side across the handshake and the MESSAGE
 * commands that follow (the client's HELLO is 1, INITIATE 2, its first MESSAGE 3;
 * the server's READY is 1, its first MESSAGE 2), and each side refuses a MESSAGE
 * whose nonce is not above the last one received, as libzmq does.
 *
 * @module
 */

import { InvalidArgumentError, ProtocolError } from '../../common/errors.ts'
import { z85Encode } from '../curve_keys.ts'
import {
  command,
  commandData,
  commandName,
  decodeMetadata,
  encodeMetadata,
  errorCommand,
  errorReason,
  FLAG_COMMAND,
  FLAG_MORE,
  type HandshakeStep,
  type Mechanism,
  type MechanismContext,
} from './_mechanism.ts'
import { boxKey, boxKeyPair, open, randomBytes, seal } from './_nacl.ts'

const encoder = new TextEncoder()

const HELLO_NONCE = encoder.encode('CurveZMQHELLO---')
const INITIATE_NONCE = encoder.encode('CurveZMQINITIATE')
const READY_NONCE = encoder.encode('CurveZMQREADY---')
const CLIENT_MESSAGE_NONCE = encoder.encode('CurveZMQMESSAGEC')
const SERVER_MESSAGE_NONCE = encoder.encode('CurveZMQMESSAGES')
const WELCOME_NONCE = encoder.encode('WELCOME-')
const COOKIE_NONCE = encoder.encode('COOKIE--')
const VOUCH_NONCE = encoder.encode('VOUCH---')
const MESSAGE_NAME = encoder.encode('\x07MESSAGE')
const VERSION = Uint8Array.of(1, 0)
/** Only these flag bits travel inside a MESSAGE box. */
/** Inside a MESSAGE box, as libzmq writes it: 0x01 more, 0x02 command (not ZMTP's 0x04). */
const BOX_MORE = 0x01
const BOX_COMMAND = 0x02
const KEY_SIZE = 32
/** MAC of every box. */
const TAG_SIZE = 16
/** "\x07MESSAGE" and the 8-byte short nonce. */
const MESSAGE_HEADER_SIZE = MESSAGE_NAME.length + 8
/** Sizes of whole command bodies (name included), as libzmq checks them. */
const HELLO_SIZE = 200
const WELCOME_SIZE = 168
const INITIATE_MIN_SIZE = 257
const READY_MIN_SIZE = 30
/** The status code libzmq's server puts in ERROR when ZAP refuses a client. */
const ZAP_REFUSED = '400'

/** The long-term keys of a CURVE client, raw 32-byte Curve25519 keys. */
export interface CurveClientKeys {
  /** The server's public key (S). */
  readonly serverKey: Uint8Array
  /** This client's public key (C). */
  readonly publicKey: Uint8Array
  /** This client's secret key (c). */
  readonly secretKey: Uint8Array
}

/** The long-term keys of a CURVE server, raw 32-byte Curve25519 keys. */
export interface CurveServerKeys {
  /** This server's secret key (s). */
  readonly secretKey: Uint8Array
  /** This server's public key (S): the client's vouch must name it. */
  readonly publicKey: Uint8Array
}

/**
 * Creates the client side of CURVE for one connection: it sends HELLO on start,
 * INITIATE on WELCOME, and is ready on READY.
 */
export function curveClientMechanism(context: MechanismContext, keys: CurveClientKeys): Mechanism {
  assertKey(keys.serverKey, 'serverKey')
  assertKey(keys.publicKey, 'publicKey')
  assertKey(keys.secretKey, 'secretKey')
  const shortTerm = boxKeyPair()
  const messages = new MessageBoxes(CLIENT_MESSAGE_NONCE, SERVER_MESSAGE_NONCE)
  let state: 'start' | 'expect-welcome' | 'expect-ready' | 'ready' | 'failed' = 'start'
  let helloKey: Uint8Array | null = null
  let sessionKey: Uint8Array | null = null

  const fail = (error: string): HandshakeStep => {
    state = 'failed'
    return { send: [], error }
  }

  const hello = (): HandshakeStep => {
    helloKey = boxKey(keys.serverKey, shortTerm.secretKey)
    if (helloKey === null) return fail('the CURVE server key is of low order')
    const nonce = messages.nextNonce()
    const signature = seal(new Uint8Array(64), concat(HELLO_NONCE, nonce), helloKey)
    state = 'expect-welcome'
    return {
      send: [command('HELLO', VERSION, new Uint8Array(72), shortTerm.publicKey, nonce, signature)],
    }
  }

  const welcome = (body: Uint8Array): HandshakeStep => {
    if (body.length !== WELCOME_SIZE) return fail('malformed CURVE WELCOME')
    const data = commandData(body)
    const plain = open(data.subarray(16), concat(WELCOME_NONCE, data.subarray(0, 16)), helloKey!)
    if (plain === null) return fail('CURVE WELCOME does not open: wrong server key?')
    const serverShortTerm = plain.subarray(0, KEY_SIZE)
    const cookie = plain.subarray(KEY_SIZE)
    sessionKey = boxKey(serverShortTerm, shortTerm.secretKey)
    const vouchKey = boxKey(serverShortTerm, keys.secretKey)
    if (sessionKey === null || vouchKey === null) {
      return fail('CURVE WELCOME carries a low-order key')
    }
    const vouchNonce = randomBytes(16)
    const vouch = seal(
      concat(shortTerm.publicKey, keys.serverKey),
      concat(VOUCH_NONCE, vouchNonce),
      vouchKey,
    )
    const nonce = messages.nextNonce()
    const box = seal(
      concat(keys.publicKey, vouchNonce, vouch, encodeMetadata(context.metadata)),
      concat(INITIATE_NONCE, nonce),
      sessionKey,
    )
    state = 'expect-ready'
    return { send: [command('INITIATE', cookie, nonce, box)] }
  }

  const ready = (body: Uint8Array): HandshakeStep => {
    if (body.length < READY_MIN_SIZE) return fail('malformed CURVE READY')
    const data = commandData(body)
    const nonce = data.subarray(0, 8)
    const plain = open(data.subarray(8), concat(READY_NONCE, nonce), sessionKey!)
    if (plain === null) return fail('CURVE READY does not open')
    const metadata = decodeMetadata(plain)
    if (metadata === null) return fail('malformed CURVE READY metadata')
    messages.start(sessionKey!, nonce)
    state = 'ready'
    return { send: [], ready: metadata }
  }

  return {
    name: 'CURVE',
    start: () => state === 'start' ? hello() : fail('CURVE handshake started twice'),
    receive(body: Uint8Array): HandshakeStep {
      const name = commandName(body)
      try {
        if (name === 'WELCOME' && state === 'expect-welcome') return welcome(body)
        if (name === 'READY' && state === 'expect-ready') return ready(body)
      } catch (error) {
        return fail(`CURVE handshake failed: ${(error as Error).message}`)
      }
      if (name === 'ERROR' && (state === 'expect-welcome' || state === 'expect-ready')) {
        return fail(errorReason(body))
      }
      return fail(`unexpected ${name || 'command'} in CURVE handshake (${state})`)
    },
    encode: (flags, payload) => messages.encode(flags, payload),
    decode: (body) => messages.decode(body),
  }
}

/**
 * Creates the server side of CURVE for one connection: WELCOME on HELLO, then on
 * INITIATE it checks the cookie and the vouch, asks ZAP about the client's public
 * key, and sends READY (or ERROR when ZAP refuses).
 */
export function curveServerMechanism(context: MechanismContext, keys: CurveServerKeys): Mechanism {
  assertKey(keys.secretKey, 'secretKey')
  assertKey(keys.publicKey, 'publicKey')
  const shortTerm = boxKeyPair()
  const messages = new MessageBoxes(SERVER_MESSAGE_NONCE, CLIENT_MESSAGE_NONCE)
  let state: 'expect-hello' | 'expect-initiate' | 'authenticating' | 'ready' | 'failed' =
    'expect-hello'
  let clientShortTerm = new Uint8Array(0)
  const cookieKey = randomBytes(KEY_SIZE)

  const fail = (error: string, send: Uint8Array[] = []): HandshakeStep => {
    state = 'failed'
    return { send, error }
  }

  const hello = (body: Uint8Array): HandshakeStep => {
    if (body.length !== HELLO_SIZE) return fail('malformed CURVE HELLO')
    const data = commandData(body)
    if (data[0] !== VERSION[0] || data[1] !== VERSION[1]) {
      return fail(`unsupported CURVE version ${data[0]}.${data[1]}`)
    }
    clientShortTerm = data.slice(74, 106)
    const nonce = data.subarray(106, 114)
    const helloKey = boxKey(clientShortTerm, keys.secretKey)
    if (helloKey === null) return fail('CURVE HELLO carries a low-order key')
    if (open(data.subarray(114), concat(HELLO_NONCE, nonce), helloKey) === null) {
      return fail('CURVE HELLO does not open: the client has another server key')
    }
    messages.acceptHandshakeNonce(nonce)
    const cookieNonce = randomBytes(16)
    const cookie = seal(
      concat(clientShortTerm, shortTerm.secretKey),
      concat(COOKIE_NONCE, cookieNonce),
      cookieKey,
    )
    const welcomeNonce = randomBytes(16)
    const box = seal(
      concat(shortTerm.publicKey, cookieNonce, cookie),
      concat(WELCOME_NONCE, welcomeNonce),
      helloKey,
    )
    state = 'expect-initiate'
    return { send: [command('WELCOME', welcomeNonce, box)] }
  }

  const initiate = async (body: Uint8Array): Promise<HandshakeStep> => {
    if (body.length < INITIATE_MIN_SIZE) return fail('malformed CURVE INITIATE')
    const data = commandData(body)
    const cookie = open(
      data.subarray(16, 96),
      concat(COOKIE_NONCE, data.subarray(0, 16)),
      cookieKey,
    )
    if (
      cookie === null || !equal(cookie.subarray(0, KEY_SIZE), clientShortTerm) ||
      !equal(cookie.subarray(KEY_SIZE), shortTerm.secretKey)
    ) {
      return fail('CURVE INITIATE carries a bad cookie')
    }
    const nonce = data.subarray(96, 104)
    const sessionKey = boxKey(clientShortTerm, shortTerm.secretKey)
    const plain = sessionKey === null
      ? null
      : open(data.subarray(104), concat(INITIATE_NONCE, nonce), sessionKey)
    if (sessionKey === null || plain === null) return fail('CURVE INITIATE does not open')
    const clientKey = plain.slice(0, KEY_SIZE)
    const vouchKey = boxKey(clientKey, shortTerm.secretKey)
    const vouch = vouchKey === null
      ? null
      : open(plain.subarray(48, 128), concat(VOUCH_NONCE, plain.subarray(32, 48)), vouchKey)
    if (
      vouch === null || !equal(vouch.subarray(0, KEY_SIZE), clientShortTerm) ||
      !equal(vouch.subarray(KEY_SIZE), keys.publicKey)
    ) {
      return fail('CURVE INITIATE carries a bad vouch')
    }
    const metadata = decodeMetadata(plain.subarray(128))
    if (metadata === null) return fail('malformed CURVE INITIATE metadata')
    messages.acceptHandshakeNonce(nonce)
    state = 'authenticating'
    const verdict = await context.authenticate('CURVE', z85Encode(clientKey))
    if (state !== 'authenticating') return fail('CURVE handshake ended while ZAP decided')
    if (verdict === null || verdict === false) {
      return fail('ZAP refused the peer', [errorCommand(ZAP_REFUSED)])
    }
    const readyNonce = messages.nextNonce()
    const box = seal(encodeMetadata(context.metadata), concat(READY_NONCE, readyNonce), sessionKey)
    messages.start(sessionKey)
    state = 'ready'
    const userId = typeof verdict === 'object' ? verdict.userId : ''
    return { send: [command('READY', readyNonce, box)], ready: metadata, userId }
  }

  return {
    name: 'CURVE',
    start: () => ({ send: [] }),
    async receive(body: Uint8Array): Promise<HandshakeStep> {
      const name = commandName(body)
      try {
        if (name === 'HELLO' && state === 'expect-hello') return hello(body)
        if (name === 'INITIATE' && state === 'expect-initiate') return await initiate(body)
      } catch (error) {
        return fail(`CURVE handshake failed: ${(error as Error).message}`)
      }
      if (name === 'ERROR' && state !== 'failed') return fail(errorReason(body))
      return fail(`unexpected ${name || 'command'} in CURVE handshake (${state})`)
    },
    encode: (flags, payload) => messages.encode(flags, payload),
    decode: (body) => messages.decode(body),
  }
}

/**
 * The MESSAGE boxes of one side after the handshake, and the short nonces of
 * both directions (ours counts through the handshake commands too).
 */
class MessageBoxes {
  readonly #sendNonce = new Uint8Array(24)
  readonly #sendNonceView = new DataView(this.#sendNonce.buffer)
  readonly #receiveNonce = new Uint8Array(24)
  #nextNonce = 1
  /** The last short nonce received, as two 32-bit halves (libzmq starts at 1). */
  #peerHigh = 0
  #peerLow = 1
  #key: Uint8Array | null = null

  constructor(sendPrefix: Uint8Array, receivePrefix: Uint8Array) {
    this.#sendNonce.set(sendPrefix)
    this.#receiveNonce.set(receivePrefix)
  }

  /** Our next short nonce (8 bytes, big-endian). */
  nextNonce(): Uint8Array {
    const nonce = new Uint8Array(8)
    const view = new DataView(nonce.buffer)
    view.setUint32(0, Math.floor(this.#nextNonce / 0x100000000))
    view.setUint32(4, this.#nextNonce >>> 0)
    this.#nextNonce++
    return nonce
  }

  /** Records the short nonce of a handshake command from the peer. */
  acceptHandshakeNonce(nonce: Uint8Array): void {
    this.#peerHigh = readUint32(nonce, 0)
    this.#peerLow = readUint32(nonce, 4)
  }

  /** Starts MESSAGE traffic under the session key (C'->S'). */
  start(key: Uint8Array, lastPeerNonce?: Uint8Array): void {
    if (lastPeerNonce !== undefined) this.acceptHandshakeNonce(lastPeerNonce)
    this.#key = key
  }

  encode(flags: number, payload: Uint8Array): Uint8Array {
    if (this.#key === null) throw new ProtocolError('CURVE handshake is not complete')
    this.#sendNonceView.setUint32(16, Math.floor(this.#nextNonce / 0x100000000))
    this.#sendNonceView.setUint32(20, this.#nextNonce >>> 0)
    this.#nextNonce++
    const plain = new Uint8Array(1 + payload.length)
    plain[0] = (flags & FLAG_MORE ? BOX_MORE : 0) | (flags & FLAG_COMMAND ? BOX_COMMAND : 0)
    plain.set(payload, 1)
    const sealed = seal(plain, this.#sendNonce, this.#key)
    const body = new Uint8Array(MESSAGE_HEADER_SIZE + sealed.length)
    body.set(MESSAGE_NAME)
    body.set(this.#sendNonce.subarray(16), MESSAGE_NAME.length)
    body.set(sealed, MESSAGE_HEADER_SIZE)
    return body
  }

  decode(body: Uint8Array): { flags: number; payload: Uint8Array } {
    if (this.#key === null) throw new ProtocolError('CURVE handshake is not complete')
    if (body.length < MESSAGE_NAME.length || !equal(body.subarray(0, 8), MESSAGE_NAME)) {
      throw new ProtocolError('expected a CURVE MESSAGE')
    }
    if (body.length < MESSAGE_HEADER_SIZE + TAG_SIZE + 1) {
      throw new ProtocolError('malformed CURVE MESSAGE')
    }
    const high = readUint32(body, MESSAGE_NAME.length)
    const low = readUint32(body, MESSAGE_NAME.length + 4)
    if (high < this.#peerHigh || (high === this.#peerHigh && low <= this.#peerLow)) {
      throw new ProtocolError('CURVE MESSAGE nonce is not above the last one: replayed?')
    }
    this.#receiveNonce.set(body.subarray(MESSAGE_NAME.length, MESSAGE_HEADER_SIZE), 16)
    const plain = open(body.subarray(MESSAGE_HEADER_SIZE), this.#receiveNonce, this.#key)
    if (plain === null) throw new ProtocolError('CURVE MESSAGE does not authenticate')
    this.#peerHigh = high
    this.#peerLow = low
    const boxFlags = plain[0]
    const flags = (boxFlags & BOX_MORE ? FLAG_MORE : 0) |
      (boxFlags & BOX_COMMAND ? FLAG_COMMAND : 0)
    return { flags, payload: plain.subarray(1) }
  }
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] * 0x1000000) +
    ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3])
}

function assertKey(key: Uint8Array, name: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_SIZE) {
    throw new InvalidArgumentError(`CURVE ${name} must be 32 bytes`)
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0
  for (const part of parts) size += part.length
  const out = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** Compares without an early exit, so timing tells nothing of secret bytes. */
function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let index = 0; index < a.length; index++) difference |= a[index] ^ b[index]
  return difference === 0
}
