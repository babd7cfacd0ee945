/**
 * A thin, synchronous wrapper over one libzmq socket: options, bind/connect and
 * non-blocking frame I/O. Every call runs on the JS thread; libzmq sockets are not
 * thread-safe, and only their `ZMQ_FD` is ever touched by the poller thread.
 *
 * @module
 */

import { ErrorCode, NetworkError } from '../../common/errors.ts'
import { EAGAIN, EINTR, ZMQ_DONTWAIT, ZMQ_EVENTS, ZMQ_FD, ZMQ_SNDMORE } from './_constants.ts'
import { cString, errorText, fromCString, libzmq } from './_ffi.ts'

// Scratch memory shared by every socket: all calls are synchronous on one thread.
// The zmq_msg_t needs 64 bytes aligned to a pointer; 128 keeps it off V8's heap.
const scratch = new ArrayBuffer(256)
const message = new Uint8Array(scratch, 0, 128)
const intValue = new Uint8Array(scratch, 128, 8)
const intView = new DataView(scratch, 128, 8)
const sizeValue = new Uint8Array(scratch, 136, 8)
const sizeView = new DataView(scratch, 136, 8)
const stringValue = new Uint8Array(512)
let messageReady = false
const USER_ID = cString('User-Id')

function zmqError(what: string, errno: number): NetworkError {
  return new NetworkError(`${what}: ${errorText(errno)}`, ErrorCode.Zmq)
}

/** A result of {@link NativeSocket.sendFrame} that is neither success nor EAGAIN. */
export type SendStatus = 'sent' | 'again' | number

/** One libzmq socket, owned by the JS thread. */
export class NativeSocket {
  /** The `void*` of the socket. */
  readonly handle: Deno.PointerObject
  /** The `ZMQ_FD` of the socket, signalled when `ZMQ_EVENTS` may have changed. */
  readonly fd: number
  #closed = false

  /** Creates a socket of `type` in `context`. */
  constructor(context: Deno.PointerObject, type: number) {
    const zmq = libzmq()
    const handle = zmq.zmq_socket(context, type)
    if (handle === null) throw zmqError('zmq_socket failed', zmq.zmq_errno())
    this.handle = handle
    this.fd = this.getInt(ZMQ_FD)
  }

  /** Sets an integer option. */
  setInt(option: number, value: number): void {
    intView.setInt32(0, value, true)
    this.#set(option, intValue, 4)
  }

  /** Sets a binary or string option. */
  setBytes(option: number, value: Uint8Array): void {
    this.#set(option, value, value.length)
  }

  #set(option: number, value: Uint8Array, length: number): void {
    const zmq = libzmq()
    if (zmq.zmq_setsockopt(this.handle, option, value, BigInt(length)) !== 0) {
      throw zmqError(`zmq_setsockopt(${option}) failed`, zmq.zmq_errno())
    }
  }

  /** Reads an integer option. */
  getInt(option: number): number {
    const zmq = libzmq()
    sizeView.setBigUint64(0, 4n, true)
    if (zmq.zmq_getsockopt(this.handle, option, intValue, sizeValue) !== 0) {
      throw zmqError(`zmq_getsockopt(${option}) failed`, zmq.zmq_errno())
    }
    return intView.getInt32(0, true)
  }

  /** Reads a string option. */
  getString(option: number): string {
    const zmq = libzmq()
    stringValue.fill(0)
    sizeView.setBigUint64(0, BigInt(stringValue.length), true)
    if (zmq.zmq_getsockopt(this.handle, option, stringValue, sizeValue) !== 0) {
      throw zmqError(`zmq_getsockopt(${option}) failed`, zmq.zmq_errno())
    }
    return fromCString(stringValue)
  }

  /** `ZMQ_EVENTS` (also processes pending commands); 0 once the socket failed. */
  events(): number {
    const zmq = libzmq()
    sizeView.setBigUint64(0, 4n, true)
    if (zmq.zmq_getsockopt(this.handle, ZMQ_EVENTS, intValue, sizeValue) !== 0) return 0
    return intView.getInt32(0, true)
  }

  /** Binds to an endpoint; throws a {@link NetworkError} naming it on failure. */
  bind(endpoint: string): void {
    const zmq = libzmq()
    if (zmq.zmq_bind(this.handle, cString(endpoint)) !== 0) {
      throw zmqError(`cannot bind ${endpoint}`, zmq.zmq_errno())
    }
  }

  /** Connects to an endpoint; throws a {@link NetworkError} naming it on failure. */
  connect(endpoint: string): void {
    const zmq = libzmq()
    if (zmq.zmq_connect(this.handle, cString(endpoint)) !== 0) {
      throw zmqError(`cannot connect ${endpoint}`, zmq.zmq_errno())
    }
  }

  /** Disconnects from an endpoint previously connected. */
  disconnect(endpoint: string): void {
    const zmq = libzmq()
    if (zmq.zmq_disconnect(this.handle, cString(endpoint)) !== 0) {
      throw zmqError(`cannot disconnect ${endpoint}`, zmq.zmq_errno())
    }
  }

  /** Starts a monitor publishing every event on an inproc PAIR endpoint. */
  monitor(endpoint: string, events: number): void {
    const zmq = libzmq()
    if (zmq.zmq_socket_monitor(this.handle, cString(endpoint), events) !== 0) {
      throw zmqError('zmq_socket_monitor failed', zmq.zmq_errno())
    }
  }

  /**
   * Stops the monitor. Must precede closing the PAIR that reads it: libzmq's I/O
   * thread publishes events with a blocking send, which would hang forever, and
   * the whole context with it, once nobody reads them.
   */
  stopMonitor(): void {
    libzmq().zmq_socket_monitor(this.handle, null, 0)
  }

  /**
   * Receives one frame without waiting; `null` when none is ready. `more` tells
   * whether another frame of the same message follows.
   */
  receiveFrame(): Uint8Array | null {
    const zmq = libzmq()
    if (!messageReady) {
      zmq.zmq_msg_init(message)
      messageReady = true
    }
    for (;;) {
      const size = zmq.zmq_msg_recv(message, this.handle, ZMQ_DONTWAIT)
      if (size >= 0) {
        const frame = new Uint8Array(size)
        if (size > 0) {
          const data = zmq.zmq_msg_data(message)
          if (data !== null) Deno.UnsafePointerView.copyInto(data, frame)
        }
        this.more = zmq.zmq_msg_more(message) === 1
        return frame
      }
      const errno = zmq.zmq_errno()
      if (errno === EAGAIN) return null
      if (errno !== EINTR) throw zmqError('zmq_msg_recv failed', errno)
    }
  }

  /** Whether the frame last returned by {@link receiveFrame} has a successor. */
  more = false

  /**
   * The `User-Id` the ZAP handler gave the connection of the frame last returned by
   * {@link receiveFrame}; `''` when it gave none.
   */
  lastFrameUserId(): string {
    const value = libzmq().zmq_msg_gets(message, USER_ID)
    return value === null ? '' : Deno.UnsafePointerView.getCString(value)
  }

  /** Sends one frame without waiting: `'sent'`, `'again'` (would block) or an errno. */
  sendFrame(frame: Uint8Array, more: boolean): SendStatus {
    const zmq = libzmq()
    const flags = more ? ZMQ_DONTWAIT | ZMQ_SNDMORE : ZMQ_DONTWAIT
    for (;;) {
      if (zmq.zmq_send(this.handle, frame, BigInt(frame.length), flags) >= 0) return 'sent'
      const errno = zmq.zmq_errno()
      if (errno === EAGAIN) return 'again'
      if (errno !== EINTR) return errno
    }
  }

  /** Closes the socket; later calls do nothing. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    libzmq().zmq_close(this.handle)
  }
}

/** Frees the memory of the last received frame (kept until the next receive). */
export function releaseLastFrame(): void {
  if (!messageReady) return
  const zmq = libzmq()
  zmq.zmq_msg_close(message)
  zmq.zmq_msg_init(message)
}

/** A libzmq context; `zmq_ctx_term` runs off the JS thread. */
export class NativeContext {
  /** The `void*` of the context. */
  readonly handle: Deno.PointerObject

  /** Creates a context. */
  constructor() {
    const zmq = libzmq()
    const handle = zmq.zmq_ctx_new()
    if (handle === null) throw zmqError('zmq_ctx_new failed', zmq.zmq_errno())
    this.handle = handle
  }

  /** Terminates the context once all its sockets are closed (bounded by their linger). */
  async terminate(): Promise<void> {
    await libzmq().zmq_ctx_term(this.handle)
  }
}

let shared: NativeContext | undefined

/** The process-wide context; it lives as long as the process (it does not keep it alive). */
export function sharedContext(): NativeContext {
  shared ??= new NativeContext()
  return shared
}
