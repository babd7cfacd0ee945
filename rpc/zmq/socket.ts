/**
 * ROUTER and DEALER sockets over libzmq, for Deno.
 *
 * How it works, and why. The awaiting API of `npm:zeromq` hangs under Deno 2.9
 * (its `uv_poll` shim fires once and stops, denoland/deno#36317) and crashes with
 * send/receive timeouts. Two workarounds were measured on a 2-core machine:
 * (A) Deno FFI to the libzmq C API with non-blocking calls and a readiness wait on
 * `ZMQ_FD` with libc `poll()` on a worker thread: 36–41k echo round trips/s, an idle
 * socket costs no CPU; (B) zeromq.js with zero timeouts and a JS retry loop:
 * 33–52k round trips/s, but an idle socket burns about 17% of a core because the
 * retry loop is timer-driven. (A) is used: same speed, no idle cost, no timers, and
 * no dependence on the broken shim. The figures of this module are measured by
 * `bench/socket_echo.ts`.
 *
 * - Every libzmq call runs on the JS thread without waiting (`ZMQ_DONTWAIT`). One
 *   reactor for the process waits, on a worker thread, in a single `poll()` over
 *   the `ZMQ_FD` of every open socket (and a wake-up PAIR), then pumps the sockets
 *   whose fd fired. `ZMQ_FD` is edge-triggered: a pump re-reads `ZMQ_EVENTS` and
 *   drains until nothing is left before the next wait. A pump handles at most a
 *   budget of messages and then yields to the event loop, so one busy socket does
 *   not starve timers or other sockets.
 * - `send()` puts the message in a send queue and returns; queues are drained in
 *   order, in a microtask and on every pump. A DEALER has one queue: when libzmq
 *   pushes back (high-water mark), it waits for the fd. A ROUTER has one queue per
 *   peer: a peer whose pipe is full (ROUTER_MANDATORY's EAGAIN) holds back only its
 *   own messages. Blocked peers are retried on every pump of the socket, and while
 *   one is blocked the reactor also pumps the socket after a short delay (2 ms,
 *   growing to 50 ms as the block lasts): the command that frees a pipe fires the
 *   fd, but a libzmq call about another peer may consume it unseen. With no peer
 *   blocked there is no retry, so an idle socket costs nothing. Errors about one
 *   message go to `onError`, in order, and the queue moves on; a ROUTER_MANDATORY
 *   send to an unknown peer is a `PeerUnreachableError`, and drops that peer's
 *   queue.
 * - Received messages go to `onMessage`, or to `for await` (buffered up to 1024
 *   messages or 1 MiB, after which reading stops and libzmq's high-water marks push
 *   back).
 * - With the `batch` option, several small messages queued for one peer leave as
 *   one ZeroMQ message and are unpacked on receipt (`../_batch.ts`): under load this
 *   saves most of the per-message FFI calls, libzmq work and wake-ups.
 * - `close()` is idempotent and never hangs: it wakes the reactor, waits for the
 *   poll that can see the fd to return, hands what it can of the queue to libzmq
 *   (the rest is dropped), and closes with the configured finite linger.
 * - An open socket keeps the process alive (the reactor's wait is a pending
 *   operation) until it is closed, like a listening server; `Deno.exit()` with open
 *   sockets is safe.
 *
 * Permissions: `--allow-ffi` (libzmq and libc `poll`) and `--allow-read` (to find the
 * prebuilt addon of `npm:zeromq` and read its manifest; it can be limited to the
 * `node_modules` folder). Optional: `--allow-env=HULY_LIBZMQ_PATH` to load a system
 * libzmq from that path. libzmq opens its TCP sockets natively, so Deno's
 * `--allow-net` does not apply to it.
 *
 * @module
 */

import { getLogger } from '@logtape/logtape'
import { ClosedError, ErrorCode, NetworkError } from '../../common/errors.ts'
import * as c from './_constants.ts'
import { Delivery } from '../_delivery.ts'
import { routingIdBytes } from '../_socket_options.ts'
import { Monitor } from './_monitor.ts'
import { NativeContext, NativeSocket, releaseLastFrame, sharedContext } from './_native.ts'
import { splitBatch } from '../_batch.ts'
import { PeerSendQueues } from './_peer_send_queues.ts'
import { type Pollable, reactor } from './_reactor.ts'
import { type SendQueue, SocketSendQueue } from './_send_queue.ts'
import { ZapServer } from './_zap.ts'
import { curveKeyPair } from '../curve_keys.ts'
import type { DealerSocketOptions, RouterSocketOptions, SocketOptions } from './types.ts'

const logger = getLogger(['huly-network', 'zmq'])
const encoder = new TextEncoder()

/** Messages handled by one pump before it yields to the event loop. */
const PUMP_BUDGET = 512
/**
 * Retries of blocked peers, in ms: an eighth of the time they have been blocked,
 * within these bounds, so a peer stalled for long costs a few wake-ups a second.
 */
const RETRY_MIN_MS = 2
const RETRY_MAX_MS = 50

/** A socket over libzmq: the common part of {@link LibzmqRouter} and {@link LibzmqDealer}. */
export abstract class LibzmqSocket implements AsyncIterable<Uint8Array[]>, AsyncDisposable {
  #native: NativeSocket
  #context: NativeContext
  #ownsContext: boolean
  #monitor: Monitor | null = null
  #zap: ZapServer | null = null
  #pollable: Pollable
  #options: SocketOptions
  #outbox: SendQueue
  #partial: Uint8Array[] = []
  readonly #delivery: Delivery
  #pumping = false
  /** Since when some peer has been blocked (`performance.now()` ms), or -1. */
  #blockedSince = -1
  #pumpScheduled = false
  #closed = false
  #closing: Promise<void> | null = null
  /** 1 when received messages start with the sender's routing id (a ROUTER), else 0. */
  #routed: number

  /**
   * Creates the libzmq socket of `type` (a `ZMQ_*` socket type) and applies the
   * options, then `typeOptions`: integer options as `[option, value]` pairs.
   * `outbox` holds what `send()` queues until libzmq takes it.
   */
  protected constructor(
    type: number,
    options: SocketOptions,
    typeOptions: readonly (readonly [number, number])[],
    outbox: SendQueue,
  ) {
    this.#options = options
    this.#delivery = new Delivery(options, logger, () => this.#schedulePump())
    this.#routed = type === c.ZMQ_ROUTER ? 1 : 0
    this.#outbox = outbox
    this.#ownsContext = options.zapHandler !== undefined
    this.#context = this.#ownsContext ? new NativeContext() : sharedContext()
    const context = this.#context.handle
    if (options.zapHandler !== undefined) this.#zap = new ZapServer(context, options.zapHandler)
    this.#native = new NativeSocket(context, type)
    try {
      applyOptions(this.#native, options)
      for (const [option, value] of typeOptions) this.#native.setInt(option, value)
      if (options.onEvent !== undefined) {
        this.#monitor = new Monitor(context, this.#native, options.onEvent)
      }
    } catch (error) {
      this.#native.close()
      this.#monitor?.close()
      this.#zap?.close()
      throw error
    }
    this.#pollable = { fd: this.#native.fd, pump: () => this.#pump() }
    reactor.add(this.#pollable)
    if (this.#monitor !== null) reactor.add(this.#monitor)
    if (this.#zap !== null) reactor.add(this.#zap)
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * Binds to an endpoint and returns the endpoint actually bound, for instance
   * `tcp://127.0.0.1:41234` for `tcp://127.0.0.1:0`.
   */
  bind(endpoint: string): string {
    this.#assertOpen()
    this.#native.bind(endpoint)
    this.#schedulePump()
    return this.#native.getString(c.ZMQ_LAST_ENDPOINT)
  }

  /** Connects to an endpoint; libzmq connects (and reconnects) in the background. */
  connect(endpoint: string): void {
    this.#assertOpen()
    this.#native.connect(endpoint)
    this.#schedulePump()
  }

  /** Disconnects from an endpoint given to {@link connect} before. */
  disconnect(endpoint: string): void {
    this.#assertOpen()
    this.#native.disconnect(endpoint)
  }

  /**
   * Queues a multipart message for sending and returns at once. Messages to one
   * peer leave in the order of the calls; on a ROUTER, a peer whose pipe is full
   * holds back only its own messages. A message that cannot be delivered is
   * reported to `onError`. Throws a {@link ClosedError} once the socket is closed.
   */
  send(frames: Uint8Array[]): void {
    this.#assertOpen()
    this.#outbox.push(frames)
    this.#schedulePump()
  }

  /** Messages queued by {@link send} that libzmq has not accepted yet (for all peers). */
  get pendingSends(): number {
    return this.#outbox.length
  }

  /** Reads messages as they arrive; ends when the socket is closed. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array[]> {
    return this.#delivery.iterator()
  }

  /** Closes the socket; idempotent, never hangs; messages still queued here are dropped. */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing
    if (!this.#pumping) {
      try {
        this.#flush(Number.MAX_SAFE_INTEGER)
      } catch (error) {
        logger.debug('final flush failed: {error}', { error })
      }
    }
    this.#closed = true
    this.#closing = this.#shutdown()
    return this.#closing
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  async #shutdown(): Promise<void> {
    const watched: Pollable[] = [this.#pollable]
    if (this.#monitor !== null) watched.push(this.#monitor)
    if (this.#zap !== null) watched.push(this.#zap)
    await Promise.all(watched.map((pollable) => reactor.remove(pollable)))
    if (this.#outbox.length > 0) {
      logger.debug('socket closed with {count} unsent messages', { count: this.#outbox.length })
    }
    this.#outbox.clear()
    if (this.#monitor !== null) this.#native.stopMonitor()
    this.#native.close()
    this.#monitor?.close()
    this.#zap?.close()
    this.#delivery.end()
    if (this.#ownsContext) await this.#context.terminate()
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('socket is closed')
  }

  #schedulePump(): void {
    if (this.#pumpScheduled || this.#pumping || this.#closed) return
    this.#pumpScheduled = true
    queueMicrotask(() => {
      this.#pumpScheduled = false
      this.#pump()
    })
  }

  /** Receives and sends all that is ready, within a budget; never waits. */
  #pump(): void {
    if (this.#closed || this.#pumping) return
    this.#pumping = true
    try {
      let budget = PUMP_BUDGET
      for (;;) {
        const events = this.#native.events()
        let progress = 0
        if ((events & c.ZMQ_POLLIN) !== 0 && !this.#delivery.full) progress += this.#receive(budget)
        if (this.#outbox.length > 0 && !this.#closed) progress += this.#flush(budget)
        if (progress === 0 || this.#closed) break
        budget -= progress
        if (budget <= 0) {
          reactor.schedule(this.#pollable)
          break
        }
      }
    } catch (error) {
      this.#delivery.report(
        error instanceof NetworkError ? error : new NetworkError(String(error), ErrorCode.Zmq),
      )
    } finally {
      this.#pumping = false
      releaseLastFrame()
      if (this.#outbox.needsRetry && !this.#closed) this.#retryLater()
      else this.#blockedSince = -1
    }
  }

  /** Asks the reactor to pump again soon, for peers whose pipe was full. */
  #retryLater(): void {
    const now = performance.now()
    if (this.#blockedSince < 0) this.#blockedSince = now
    const delay = (now - this.#blockedSince) / 8
    reactor.retryAfter(this.#pollable, Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, delay)))
  }

  #receive(budget: number): number {
    let count = 0
    while (count < budget && !this.#closed && !this.#delivery.full) {
      const frame = this.#native.receiveFrame()
      if (frame === null) break
      this.#partial.push(frame)
      if (this.#native.more) continue
      const frames = this.#partial
      this.#partial = []
      // Every message of a batch came on one connection: they share its User-Id.
      const userId = this.#options.readUserId ? this.#native.lastFrameUserId() : ''
      const batch = this.#options.batch === true ? splitBatch(frames, this.#routed) : null
      // A batch counts as the messages it holds: the budget bounds the work of one turn.
      count += batch === null ? 1 : batch.length
      if (batch === null) this.#delivery.deliver(frames, userId)
      else for (const message of batch) this.#delivery.deliver(message, userId)
    }
    return count
  }

  /** Hands queued messages to libzmq until it pushes back; returns how many were handled. */
  #flush(budget: number): number {
    return this.#outbox.flush(this.#native, budget, this.#delivery.report)
  }
}

/** The libzmq ROUTER behind `RouterSocket` (see there), with a send queue per peer. */
export class LibzmqRouter extends LibzmqSocket {
  #queues: PeerSendQueues

  /** Creates a ROUTER socket; it does nothing until bound or connected. */
  constructor(options: RouterSocketOptions = {}) {
    const queues = new PeerSendQueues(options.batch === true)
    super(c.ZMQ_ROUTER, options, [
      [c.ZMQ_ROUTER_MANDATORY, options.mandatory === false ? 0 : 1],
      [c.ZMQ_ROUTER_HANDOVER, options.handover === true ? 1 : 0],
    ], queues)
    this.#queues = queues
  }

  /** Messages queued for the peer with `routingId` that libzmq has not taken yet. */
  pendingFor(routingId: Uint8Array): number {
    return this.#queues.pendingFor(routingId)
  }

  /** Discards the messages queued for the peer with `routingId`; returns how many. */
  dropPeer(routingId: Uint8Array): number {
    return this.#queues.drop(routingId)
  }
}

/** The libzmq DEALER behind `DealerSocket` (see there). */
export class LibzmqDealer extends LibzmqSocket {
  /** Creates a DEALER socket; it does nothing until bound or connected. */
  constructor(options: DealerSocketOptions = {}) {
    super(c.ZMQ_DEALER, options, [], new SocketSendQueue(options.batch === true))
  }
}

/** Sets the libzmq options; the caller closes the socket if this throws. */
function applyOptions(native: NativeSocket, options: SocketOptions): void {
  native.setInt(c.ZMQ_LINGER, options.linger ?? 0)
  if (options.sendHighWaterMark !== undefined) {
    native.setInt(c.ZMQ_SNDHWM, options.sendHighWaterMark)
  }
  if (options.receiveHighWaterMark !== undefined) {
    native.setInt(c.ZMQ_RCVHWM, options.receiveHighWaterMark)
  }
  if (options.maxMessageSize !== undefined) {
    const value = new DataView(new ArrayBuffer(8))
    value.setBigInt64(0, BigInt(options.maxMessageSize), true)
    native.setBytes(c.ZMQ_MAXMSGSIZE, new Uint8Array(value.buffer))
  }
  if (options.routingId !== undefined) {
    native.setBytes(c.ZMQ_ROUTING_ID, routingIdBytes(options.routingId))
  }
  if (options.handshakeInterval !== undefined) {
    native.setInt(c.ZMQ_HANDSHAKE_IVL, options.handshakeInterval)
  }
  const keepalive = options.tcpKeepalive
  if (keepalive !== undefined && keepalive !== false) {
    native.setInt(c.ZMQ_TCP_KEEPALIVE, 1)
    if (typeof keepalive === 'object') {
      if (keepalive.idle !== undefined) native.setInt(c.ZMQ_TCP_KEEPALIVE_IDLE, keepalive.idle)
      if (keepalive.interval !== undefined) {
        native.setInt(c.ZMQ_TCP_KEEPALIVE_INTVL, keepalive.interval)
      }
      if (keepalive.count !== undefined) native.setInt(c.ZMQ_TCP_KEEPALIVE_CNT, keepalive.count)
    }
  } else if (keepalive === false) {
    native.setInt(c.ZMQ_TCP_KEEPALIVE, 0)
  }
  const heartbeat = options.heartbeat
  if (heartbeat !== undefined) {
    native.setInt(c.ZMQ_HEARTBEAT_IVL, heartbeat.interval)
    native.setInt(c.ZMQ_HEARTBEAT_TIMEOUT, heartbeat.timeout ?? heartbeat.interval)
    if (heartbeat.ttl !== undefined) native.setInt(c.ZMQ_HEARTBEAT_TTL, heartbeat.ttl)
  }
  if (options.zapDomain !== undefined) {
    native.setBytes(c.ZMQ_ZAP_DOMAIN, encoder.encode(options.zapDomain))
  }
  const curve = options.curve
  if (curve !== undefined) {
    if ('serverKey' in curve) {
      const own = curve.publicKey !== undefined && curve.secretKey !== undefined
        ? { publicKey: curve.publicKey, secretKey: curve.secretKey }
        : curveKeyPair()
      native.setBytes(c.ZMQ_CURVE_SERVERKEY, encoder.encode(curve.serverKey))
      native.setBytes(c.ZMQ_CURVE_PUBLICKEY, encoder.encode(own.publicKey))
      native.setBytes(c.ZMQ_CURVE_SECRETKEY, encoder.encode(own.secretKey))
    } else {
      native.setInt(c.ZMQ_CURVE_SERVER, 1)
      native.setBytes(c.ZMQ_CURVE_SECRETKEY, encoder.encode(curve.secretKey))
    }
  }
}
