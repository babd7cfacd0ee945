/**
 * The seam between a ZMTP connection and its security mechanism (RFC 23/37 §
 * "Authentication and Confidentiality"): the connection parses frames and hands
 * every handshake command to the mechanism, which answers with commands to send
 * and, at the end, the peer's metadata. After the handshake a mechanism may wrap
 * every frame (CURVE's MESSAGE command) or leave it plain (NULL).
 *
 * A command body is: name length (1 byte), name (ASCII), data.
 *
 * @module
 */

import type { ZapVerdict } from '../zmq/types.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Frame flag bits of ZMTP 3 (also the flags byte inside a CURVE MESSAGE box). */
export const FLAG_MORE = 0x01
/** The frame is long: its size is 8 bytes instead of 1. */
export const FLAG_LONG = 0x02
/** The frame is a command. */
export const FLAG_COMMAND = 0x04

/** Metadata properties of READY/INITIATE: names are case-insensitive ASCII. */
export type Metadata = Map<string, Uint8Array>

/** What a mechanism does after the greeting or after one handshake command. */
export interface HandshakeStep {
  /** Command bodies to send, in order (already encrypted where the mechanism needs it). */
  readonly send: Uint8Array[]
  /** Set when the handshake completed: the peer's metadata (Socket-Type, Identity, ...). */
  readonly ready?: Metadata
  /** Set when the handshake failed: why, in words; the connection is closed after `send`. */
  readonly error?: string
  /** Set with `ready` on a server when ZAP named the peer: the User-Id of every message. */
  readonly userId?: string
}

/** What a mechanism needs from its connection. */
export interface MechanismContext {
  /** Whether this side is the server of the mechanism (`as-server`). */
  readonly asServer: boolean
  /** This side's metadata: `Socket-Type`, and `Identity` for a DEALER with a routing id. */
  readonly metadata: Metadata
  /**
   * Asks the socket's ZAP handler about the peer (the connection fills in the
   * domain, address and routing id). Resolves `{ userId: '' }` when the socket
   * has no handler, the verdict's user id when it allows, `null` when it refuses.
   */
  authenticate(mechanism: 'NULL' | 'CURVE', publicKey?: string): Promise<ZapVerdict | null>
}

/** One side of a security mechanism, for one connection. */
export interface Mechanism {
  /** The name in the greeting (`NULL`, `CURVE`). */
  readonly name: 'NULL' | 'CURVE'
  /** Commands to send right after the greeting (NULL's READY, CURVE's HELLO). */
  start(): HandshakeStep
  /** Handles one handshake command from the peer. */
  receive(command: Uint8Array): HandshakeStep | Promise<HandshakeStep>
  /**
   * After the handshake: the wire body of one frame with `flags` (FLAG_MORE and/or
   * FLAG_COMMAND). Absent for NULL, whose frames go plain.
   */
  encode?(flags: number, payload: Uint8Array): Uint8Array
  /**
   * After the handshake: the flags and payload of one received frame body; throws
   * a `ProtocolError` when it does not authenticate. Absent for NULL.
   */
  decode?(body: Uint8Array): { flags: number; payload: Uint8Array }
}

/** The body of a command: its name, then `data`. */
export function command(name: string, ...data: Uint8Array[]): Uint8Array {
  let size = 1 + name.length
  for (const part of data) size += part.length
  const body = new Uint8Array(size)
  body[0] = name.length
  body.set(encoder.encode(name), 1)
  let offset = 1 + name.length
  for (const part of data) {
    body.set(part, offset)
    offset += part.length
  }
  return body
}

/** The name of a command body, or `''` when it has none. */
export function commandName(body: Uint8Array): string {
  if (body.length < 1 || body.length < 1 + body[0]) return ''
  return decoder.decode(body.subarray(1, 1 + body[0]))
}

/** The data of a command body (after its name). */
export function commandData(body: Uint8Array): Uint8Array {
  return body.subarray(1 + (body[0] ?? 0))
}

/** Encodes metadata properties: name length (1), name, value length (4, big-endian), value. */
export function encodeMetadata(metadata: Metadata): Uint8Array {
  let size = 0
  for (const [name, value] of metadata) size += 1 + name.length + 4 + value.length
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let offset = 0
  for (const [name, value] of metadata) {
    out[offset++] = name.length
    out.set(encoder.encode(name), offset)
    offset += name.length
    view.setUint32(offset, value.length)
    offset += 4
    out.set(value, offset)
    offset += value.length
  }
  return out
}

/** Decodes metadata properties (names lower-cased); `null` when the bytes do not parse. */
export function decodeMetadata(bytes: Uint8Array): Metadata | null {
  const metadata: Metadata = new Map()
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let offset = 0
  while (offset < bytes.length) {
    const nameLength = bytes[offset++]
    if (nameLength === 0 || offset + nameLength + 4 > bytes.length) return null
    const name = decoder.decode(bytes.subarray(offset, offset + nameLength)).toLowerCase()
    offset += nameLength
    const valueLength = view.getUint32(offset)
    offset += 4
    if (valueLength > bytes.length - offset) return null
    metadata.set(name, bytes.subarray(offset, offset + valueLength))
    offset += valueLength
  }
  return metadata
}

/** An ERROR command with a reason of at most 255 bytes. */
export function errorCommand(reason: string): Uint8Array {
  const text = encoder.encode(reason).subarray(0, 255)
  return command('ERROR', Uint8Array.of(text.length), text)
}

/**
 * The reason of an ERROR command, in words; a three-digit reason is a ZAP status
 * code, said the way libzmq's monitor says it.
 */
export function errorReason(body: Uint8Array): string {
  const data = commandData(body)
  if (data.length < 1 || data[0] > data.length - 1) return 'malformed ERROR'
  const reason = decoder.decode(data.subarray(1, 1 + data[0]))
  return /^[345]\d\d$/.test(reason)
    ? `authentication refused (ZAP status ${reason})`
    : `peer refused: ${reason}`
}
