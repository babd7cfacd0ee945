// The frames of the rpc protocol. Every message is a MessagePack header array
// [kind, id, ...fields] and, for requests, replies and events, one opaque body frame.
import { ProtocolError } from '../common/errors.ts'
import { decode, encode } from './codec.ts'

/**
 * The protocol version spoken by this library.
 *
 * @example
 * ```ts
 * import { PROTOCOL_VERSION } from "@huly/network/rpc"
 * console.log(PROTOCOL_VERSION)
 * ```
 */
export const PROTOCOL_VERSION = 1

/**
 * The kinds of message of the rpc protocol, the first field of every header.
 *
 * @example
 * ```ts
 * import { Kind } from '@huly/network/internal'
 * console.log(Kind.request) // 5
 * ```
 */
export const Kind = {
  hello: 1,
  welcome: 2,
  ping: 3,
  pong: 4,
  request: 5,
  reply: 6,
  fail: 7,
  cancel: 8,
  busy: 9,
  event: 10,
  bye: 11,
  reject: 12,
} as const

/**
 * A decoded message header. Requests, replies and events also carry one body frame.
 *
 * @example
 * ```ts
 * import type { Header } from '@huly/network/internal'
 * const ping: Header = { kind: 3 }
 * ```
 */
export type Header =
  | {
    kind: typeof Kind.hello
    version: number
    clientId: string
    aliveMs: number
    credentials: unknown
    /** The client was connected before (to this server or one that died). */
    resume: boolean
    /** Unique per client object: request ids restart with a new instance. */
    instance: string
  }
  | {
    kind: typeof Kind.welcome
    version: number
    serverId: string
    /** Names the server-side session; a new one numbers its requests from 1 again. */
    instance: string
  }
  | { kind: typeof Kind.ping | typeof Kind.pong }
  | {
    kind: typeof Kind.request
    id: number
    operation: string
    timeoutMs: number
    meta: unknown
    /** The caller's W3C `traceparent`; an optional field (index 5), absent when not traced. */
    trace?: string
    /**
     * The sender has settled every request of its own with an id up to this one, so
     * the receiver may forget its answers to them; an optional field (index 6).
     */
    ack?: number
  }
  | { kind: typeof Kind.reply | typeof Kind.cancel | typeof Kind.busy; id: number }
  | { kind: typeof Kind.fail; id: number; name: string; message: string; code: string }
  | { kind: typeof Kind.event; topic: string; meta: unknown }
  | { kind: typeof Kind.bye; reason: string }
  | { kind: typeof Kind.reject; id: number; name: string; message: string; code: string }

const empty = new Uint8Array(0)

export function headerFrame(header: Header): Uint8Array {
  switch (header.kind) {
    case Kind.hello:
      return encode([
        header.kind,
        0,
        header.version,
        header.clientId,
        header.aliveMs,
        header.credentials,
        header.resume,
        header.instance,
      ])
    case Kind.welcome:
      return encode([header.kind, 0, header.version, header.serverId, header.instance])
    case Kind.ping:
    case Kind.pong:
      return encode([header.kind, 0])
    case Kind.request:
      if (header.ack === undefined && header.trace === undefined) {
        return encode([header.kind, header.id, header.operation, header.timeoutMs, header.meta])
      }
      return header.ack === undefined
        ? encode([
          header.kind,
          header.id,
          header.operation,
          header.timeoutMs,
          header.meta,
          header.trace,
        ])
        : encode([
          header.kind,
          header.id,
          header.operation,
          header.timeoutMs,
          header.meta,
          header.trace ?? null,
          header.ack,
        ])
    case Kind.reply:
    case Kind.cancel:
    case Kind.busy:
      return encode([header.kind, header.id])
    case Kind.fail:
    case Kind.reject:
      return encode([header.kind, header.id, header.name, header.message, header.code])
    case Kind.event:
      return encode([header.kind, 0, header.topic, header.meta])
    case Kind.bye:
      return encode([header.kind, 0, header.reason])
  }
}

/** The frames of a message: its header and, when it has one, its body. */
export function frames(header: Header, body?: Uint8Array): Uint8Array[] {
  return body === undefined ? [headerFrame(header)] : [headerFrame(header), body]
}

/**
 * The header frame of an event. A stream of events of one container repeats the
 * same topic and meta, so the last header is kept and reused while the topic and
 * a shallowly equal meta (primitive values only) come again.
 */
export function eventHeader(topic: string, meta: unknown): Uint8Array {
  if (topic !== lastEvent.topic || !sameShallow(meta, lastEvent.meta)) {
    lastEvent = { topic, meta, frame: headerFrame({ kind: Kind.event, topic, meta }) }
  }
  return lastEvent.frame
}

let lastEvent: { topic: string; meta: unknown; frame: Uint8Array } = {
  topic: '',
  meta: undefined,
  frame: new Uint8Array(0),
}

/** Equal primitives, or plain objects with the same keys and equal primitive values. */
function sameShallow(a: unknown, b: unknown): boolean {
  if (a === b) return a === null || typeof a !== 'object'
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Object.getPrototypeOf(a) !== Object.prototype) return false
  if (Object.getPrototypeOf(b) !== Object.prototype) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  for (const key of keys) {
    const value = (a as Record<string, unknown>)[key]
    if (value !== null && typeof value === 'object') return false
    if (value !== (b as Record<string, unknown>)[key] || !Object.hasOwn(b, key)) return false
  }
  return true
}

const bodyKinds = new Set<number>([Kind.request, Kind.reply, Kind.event])

/**
 * The last header parsed, by its bytes: a stream of events repeats one header, and
 * comparing ~50 bytes costs far less than decoding them. Parsed headers are never
 * modified by their readers, so one object may serve several messages.
 */
let lastParsed: { bytes: Uint8Array; header: Header } | undefined

/**
 * Parses a message (header frame + optional body). Throws `ProtocolError` with the
 * request id when one could be read, so the sender can be answered.
 */
export function parseMessage(message: Uint8Array[]): { header: Header; body: Uint8Array } {
  if (message.length < 1 || message.length > 2) {
    throw new ProtocolError(`a message has 1 or 2 frames, got ${message.length}`)
  }
  const frame = message[0]
  if (lastParsed !== undefined && sameBytes(frame, lastParsed.bytes)) {
    if (bodyKinds.has(lastParsed.header.kind) !== (message.length === 2)) {
      throw new ProtocolFrameError(
        `message kind ${lastParsed.header.kind} has a wrong frame count`,
        0,
      )
    }
    return { header: lastParsed.header, body: message[1] ?? empty }
  }
  const parsed = parseNew(message)
  if (parsed.header.kind === Kind.event) {
    lastParsed = { bytes: frame.slice(), header: parsed.header }
  }
  return parsed
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function parseNew(message: Uint8Array[]): { header: Header; body: Uint8Array } {
  const raw = decode(message[0])
  if (!Array.isArray(raw) || typeof raw[0] !== 'number' || typeof raw[1] !== 'number') {
    throw new ProtocolError('the header is not [kind, id, …]')
  }
  const [kind, id] = raw as [number, number]
  const body = message[1] ?? empty
  if (bodyKinds.has(kind) !== (message.length === 2)) {
    throw new ProtocolFrameError(`message kind ${kind} has a wrong frame count`, id)
  }
  const text = (index: number): string => {
    const value = raw[index]
    if (typeof value !== 'string') {
      throw new ProtocolFrameError(`header field ${index} must be a string`, id)
    }
    return value
  }
  const number = (index: number): number => {
    const value = raw[index]
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ProtocolFrameError(`header field ${index} must be a number`, id)
    }
    return value
  }
  switch (kind) {
    case Kind.hello:
      return {
        header: {
          kind,
          version: number(2),
          clientId: text(3),
          aliveMs: number(4),
          credentials: raw[5],
          resume: raw[6] === true,
          instance: text(7),
        },
        body,
      }
    case Kind.welcome:
      return {
        header: { kind, version: number(2), serverId: text(3), instance: text(4) },
        body,
      }
    case Kind.ping:
    case Kind.pong:
      return { header: { kind }, body }
    case Kind.request: {
      const trace = typeof raw[5] === 'string' ? raw[5] : undefined
      const header = { kind, id, operation: text(2), timeoutMs: number(3), meta: raw[4], trace }
      return { header: raw[6] === undefined ? header : { ...header, ack: number(6) }, body }
    }
    case Kind.reply:
    case Kind.cancel:
    case Kind.busy:
      return { header: { kind, id }, body }
    case Kind.fail:
    case Kind.reject:
      return {
        header: { kind, id, name: text(2), message: text(3), code: text(4) },
        body,
      }
    case Kind.event:
      return { header: { kind, topic: text(2), meta: raw[3] }, body }
    case Kind.bye:
      return { header: { kind, reason: text(2) }, body }
    default:
      throw new ProtocolFrameError(`unknown message kind ${kind}`, id)
  }
}

/** A protocol error about a message whose request id is known. */
export class ProtocolFrameError extends ProtocolError {
  constructor(message: string, readonly requestId: number) {
    super(message)
  }
}
