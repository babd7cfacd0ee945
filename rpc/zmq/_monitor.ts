/**
 * Socket monitor: `zmq_socket_monitor` publishes events on an inproc PAIR that the
 * reactor watches like any other socket.
 *
 * @module
 */

import { getLogger } from '@logtape/logtape'
import * as c from './_constants.ts'
import { errorText } from './_ffi.ts'
import { NativeSocket } from './_native.ts'
import type { Pollable } from './_reactor.ts'
import type { SocketEvent, SocketEventType } from './types.ts'

const logger = getLogger(['huly-network', 'zmq'])
const decoder = new TextDecoder()

const EVENT_TYPES: ReadonlyMap<number, SocketEventType> = new Map([
  [c.ZMQ_EVENT_CONNECTED, 'connected'],
  [c.ZMQ_EVENT_CONNECT_DELAYED, 'connect-delayed'],
  [c.ZMQ_EVENT_CONNECT_RETRIED, 'connect-retried'],
  [c.ZMQ_EVENT_LISTENING, 'listening'],
  [c.ZMQ_EVENT_BIND_FAILED, 'bind-failed'],
  [c.ZMQ_EVENT_ACCEPTED, 'accepted'],
  [c.ZMQ_EVENT_ACCEPT_FAILED, 'accept-failed'],
  [c.ZMQ_EVENT_CLOSED, 'closed'],
  [c.ZMQ_EVENT_CLOSE_FAILED, 'close-failed'],
  [c.ZMQ_EVENT_DISCONNECTED, 'disconnected'],
  [c.ZMQ_EVENT_MONITOR_STOPPED, 'monitor-stopped'],
  [c.ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 'handshake-failed'],
  [c.ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 'handshake-succeeded'],
  [c.ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, 'handshake-failed'],
  [c.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 'handshake-failed'],
])

/** Why an event with a failure happened, in words. */
function reasonOf(event: number, value: number): string | undefined {
  switch (event) {
    case c.ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      return protocolText(value)
    case c.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      return `authentication refused (ZAP status ${value})`
    case c.ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
    case c.ZMQ_EVENT_BIND_FAILED:
    case c.ZMQ_EVENT_ACCEPT_FAILED:
    case c.ZMQ_EVENT_CLOSE_FAILED:
      return errorText(value)
    default:
      return undefined
  }
}

function protocolText(value: number): string {
  return c.PROTOCOL_ERRORS.get(value) ?? `protocol error 0x${value.toString(16)}`
}

/** Decodes one monitor message (two frames) into a {@link SocketEvent}. */
export function decodeMonitorEvent(frames: Uint8Array[]): SocketEvent | null {
  if (frames.length < 2 || frames[0].length < 6) return null
  const view = new DataView(frames[0].buffer, frames[0].byteOffset, 6)
  const event = view.getUint16(0, true)
  const value = view.getUint32(2, true)
  const type = EVENT_TYPES.get(event)
  if (type === undefined) return null
  const reason = reasonOf(event, value)
  const endpoint = decoder.decode(frames[1])
  return reason === undefined ? { type, endpoint, value } : { type, endpoint, value, reason }
}

/** Receives the events of one socket and hands them to a listener. */
export class Monitor implements Pollable {
  readonly fd: number
  #pair: NativeSocket
  #listener: (event: SocketEvent) => void
  #frames: Uint8Array[] = []

  /** Starts monitoring `target`; the PAIR lives in the same context. */
  constructor(
    context: Deno.PointerObject,
    target: NativeSocket,
    listener: (event: SocketEvent) => void,
  ) {
    const endpoint = `inproc://huly-network-monitor-${crypto.randomUUID()}`
    target.monitor(endpoint, c.ZMQ_EVENT_ALL)
    this.#pair = new NativeSocket(context, c.ZMQ_PAIR)
    this.#pair.setInt(c.ZMQ_LINGER, 0)
    this.#pair.connect(endpoint)
    this.fd = this.#pair.fd
    this.#listener = listener
  }

  /** Delivers every event that is ready. */
  pump(): void {
    while ((this.#pair.events() & c.ZMQ_POLLIN) !== 0) {
      for (;;) {
        const frame = this.#pair.receiveFrame()
        if (frame === null) break
        this.#frames.push(frame)
        if (this.#pair.more) continue
        const event = decodeMonitorEvent(this.#frames)
        this.#frames = []
        if (event !== null) this.#emit(event)
      }
    }
  }

  #emit(event: SocketEvent): void {
    try {
      this.#listener(event)
    } catch (error) {
      logger.error('socket event listener threw: {error}', { error })
    }
  }

  /** Closes the PAIR. */
  close(): void {
    this.#pair.close()
  }
}
