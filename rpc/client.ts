/**
 * The rpc client: a DEALER socket that handshakes, pings, notices a dead or
 * restarted server, reconnects by itself and re-sends what is unanswered.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type { TickManager } from '../common/clock.ts'
import {
  ClosedError,
  ErrorCode,
  LimitExceededError,
  OutcomeUnknownError,
  ProtocolError,
  TimeoutError,
} from '../common/errors.ts'
import { decode } from './codec.ts'
import { frames, Kind, parseMessage, PROTOCOL_VERSION } from './_frames.ts'
import { defaultLimits, isHeaderOfKind, messageBytes, Refusals } from './limits.ts'
import {
  identifySession,
  type RequestHandler,
  type RequestOptions,
  RpcSession,
  type SessionOptions,
} from './session.ts'
import { DealerSocket } from './socket.ts'
import type { DealerSocketOptions, Transport } from './zmq/types.ts'

const logger = getLogger(['huly-network', 'rpc', 'client'])

/**
 * Options of an {@link RpcClient}.
 *
 * @example
 * ```ts
 * import { TickManagerImpl } from '@huly/network/core'
 * import type { RpcClientOptions } from '@huly/network/rpc'
 * const options: RpcClientOptions = { clock: new TickManagerImpl(10), clientId: 'client-1' }
 * ```
 */
export interface RpcClientOptions extends SessionOptions {
  /** The clock for pings and deadlines. */
  clock: TickManager
  /** The client's id, stable across reconnects. */
  clientId: string
  /** Serves requests the server sends to this client. */
  handler?: RequestHandler
  /** Receives events from the server. */
  onEvent?: (topic: string, meta: unknown, body: Uint8Array) => void
  /** Called after every successful handshake; `first` only for the first one. */
  onConnect?: (first: boolean) => void
  /** Called when the connection is lost (the client reconnects by itself). */
  onDisconnect?: (reason: string) => void
  /** The server is dead after this long without a word (3000 ms). */
  aliveTimeoutMs?: number
  /** How often to ping (1000 ms). */
  pingIntervalMs?: number
  /** Credentials for the handshake. */
  credentials?: unknown
  /** Options of the DEALER socket (CURVE, limits). */
  socket?: Omit<DealerSocketOptions, 'onMessage'>
  /** The socket transport (`zmtp` or `libzmq`); the default of `defaultTransport()` when absent. */
  transport?: Transport
  /** The protocol version to announce; only tests change it. */
  protocolVersion?: number
  /** Bytes of one received message, summed over its frames (16 MiB). */
  maxMessageBytes?: number
}

type State = 'connecting' | 'connected' | 'failed' | 'closed'

/**
 * A DEALER-socket rpc client.
 *
 * @example
 * ```ts ignore
 * import { TickManagerImpl } from '@huly/network/core'
 * import { encode, RpcClient } from '@huly/network/rpc'
 * const clock = new TickManagerImpl(10)
 * clock.start()
 * const client = new RpcClient('tcp://127.0.0.1:3737', { clock, clientId: 'c1' })
 * await client.waitConnection(5_000)
 * await client.request('ping', encode(null))
 * await client.close()
 * clock.stop()
 * ```
 */
export class RpcClient {
  /** The session requests go through. */
  readonly session: RpcSession
  readonly #endpoint: string
  readonly #options: RpcClientOptions
  readonly #aliveMs: number
  #socket: DealerSocket | undefined
  #state: State = 'connecting'
  #lastSeen: number
  #connectedOnce = false
  readonly #instance = crypto.randomUUID()
  #serverInstance: string | undefined
  #failure: Error | undefined
  #waiters = new Set<{ resolve: () => void; reject: (error: Error) => void }>()
  readonly #unregisterPing: () => void
  readonly #maxMessageBytes: number
  /** The server asked to say hello again later. */
  #helloAgain = false
  /** A {@link RpcClient.redial} is due at the end of this turn. */
  #redialing = false
  readonly #refusals = new Refusals()

  /** Creates the client and starts connecting to `endpoint` (`tcp://host:port`). */
  constructor(endpoint: string, options: RpcClientOptions) {
    this.#endpoint = endpoint
    this.#options = options
    this.#aliveMs = options.aliveTimeoutMs ?? 3000
    this.#maxMessageBytes = options.maxMessageBytes ?? defaultLimits.maxMessageBytes
    const handler: RequestHandler = options.handler ??
      ((request) => Promise.reject(new ProtocolError(`no handler for ${request.operation}`)))
    this.session = new RpcSession(options.clock, handler, options)
    identifySession(this.session, { peerId: endpoint })
    this.#lastSeen = options.clock.now()
    this.#unregisterPing = options.clock.every(() => this.#tick(), options.pingIntervalMs ?? 1000)
    this.#open()
  }

  /** Whether the handshake is done and the server alive. */
  get connected(): boolean {
    return this.#state === 'connected'
  }

  /** Input from the server refused by each limit (`docs/limits.md`), by the limit's name. */
  get refused(): Readonly<Record<string, number>> {
    return this.#refusals.counts
  }

  /** Resolves once connected; rejects after `timeoutMs` (0 or none waits forever). */
  waitConnection(timeoutMs = 0): Promise<void> {
    if (this.#state === 'connected') return Promise.resolve()
    if (this.#state === 'failed') return Promise.reject(this.#failure)
    if (this.#state === 'closed') return Promise.reject(new ClosedError('the client is closed'))
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    const waiter = { resolve, reject }
    this.#waiters.add(waiter)
    if (timeoutMs > 0) {
      const cancel = this.#options.clock.schedule(() => {
        this.#waiters.delete(waiter)
        reject(new TimeoutError(`not connected to ${this.#endpoint} after ${timeoutMs} ms`))
      }, timeoutMs)
      promise.then(cancel, cancel)
    }
    return promise
  }

  /** Sends a request (queued until connected) and resolves with the encoded reply. */
  request(operation: string, body: Uint8Array, options?: RequestOptions): Promise<Uint8Array> {
    if (this.#state === 'failed') return Promise.reject(this.#failure)
    return this.session.request(operation, body, options)
  }

  /** Sends an event to the server; false while not connected. */
  event(topic: string, body: Uint8Array, meta?: unknown): boolean {
    return this.session.event(topic, body, meta)
  }

  /**
   * Someone else (the coordinator announcing an agent at this endpoint, say) knows the
   * server is up now: a client that is not connected, or is but has not heard from the
   * server for two ping intervals, connects again at once on a new socket, instead of
   * waiting for its socket's back-off (up to 2 s) or its alive timeout. What waits for
   * the handshake is sent right after it. Calls in one turn dial once; a connected,
   * live client, or one the server asked to wait, is left alone.
   */
  redial(): void {
    if (this.#redialing) return
    this.#redialing = true
    queueMicrotask(() => {
      this.#redialing = false
      const silentMs = this.#options.clock.now() - this.#lastSeen
      const stale = this.#state === 'connected' &&
        silentMs > 2 * (this.#options.pingIntervalMs ?? 1000)
      if ((this.#state === 'connecting' && !this.#helloAgain) || stale) {
        logger.debug('{endpoint} is up again: connecting now', { endpoint: this.#endpoint })
        this.#reconnect('the server is up again: connecting now')
      }
    })
  }

  /** Says goodbye, fails what is pending with `ClosedError` and closes the socket. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return
    if (this.#state === 'connected') {
      this.#socket?.send(frames({ kind: Kind.bye, reason: 'client closed' }))
    }
    this.#state = 'closed'
    this.#unregisterPing()
    this.session.close()
    this.#settleWaiters(new ClosedError('the client is closed'))
    await this.#socket?.close()
    this.#socket = undefined
  }

  /** Same as {@link RpcClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #open(): void {
    const socket = new DealerSocket({
      // Counted in ZeroMQ messages, and a batch of up to 64 KiB is one: this bounds what
      // libzmq holds per peer to about 64 MiB. Beyond it, messages wait in our own queue.
      sendHighWaterMark: 1000,
      receiveHighWaterMark: 1000,
      maxMessageSize: this.#maxMessageBytes,
      ...this.#options.socket,
      transport: this.#options.transport ?? this.#options.socket?.transport,
      // Both ends of the rpc protocol pack queued messages into batches (rpc/_batch.ts).
      batch: true,
      onMessage: (message) => {
        if (this.#socket === socket) this.#receive(message)
      },
      onError: (error) => logger.debug('send failed: {error}', { error }),
    })
    this.#socket = socket
    socket.connect(this.#endpoint)
    this.#hello()
  }

  #hello(): void {
    this.#state = 'connecting'
    this.#helloAgain = false
    this.session.detach()
    this.#socket?.send(frames({
      kind: Kind.hello,
      version: this.#options.protocolVersion ?? PROTOCOL_VERSION,
      clientId: this.#options.clientId,
      aliveMs: this.#aliveMs,
      credentials: this.#options.credentials,
      resume: this.#connectedOnce,
      instance: this.#instance,
    }))
  }

  #receive(message: Uint8Array[]): void {
    const bytes = messageBytes(message)
    if (bytes > this.#maxMessageBytes) return this.#refuseLarge(message[0], bytes)
    let parsed
    try {
      parsed = parseMessage(message)
    } catch (error) {
      logger.warn('malformed message from the server: {error}', { error })
      return
    }
    const { header, body } = parsed
    this.#lastSeen = this.#options.clock.now()
    switch (header.kind) {
      case Kind.welcome:
        return this.#welcome(header.instance)
      case Kind.pong:
        return
      case Kind.ping:
        this.session.sendRaw(frames({ kind: Kind.pong }))
        return
      case Kind.event:
        this.#options.onEvent?.(header.topic, header.meta, body)
        return
      case Kind.bye:
        logger.info('server {endpoint} said bye: {reason}', {
          endpoint: this.#endpoint,
          reason: header.reason,
        })
        return this.#reconnect(`server said bye: ${header.reason}`)
      case Kind.reject:
        if (header.code === ErrorCode.NoSession) {
          if (this.#state === 'connected') this.#lostSession('the server does not know this client')
          return
        }
        // Refused for now (too many hellos or sessions): the next tick says hello again.
        if (header.code === ErrorCode.TryLater) {
          this.#helloAgain = this.#state === 'connecting'
          logger.warn('{endpoint} refused the handshake for now: {message}', {
            endpoint: this.#endpoint,
            message: header.message,
          })
          return
        }
        return this.#fail(
          header.name === 'LimitExceededError'
            ? new LimitExceededError(header.message.split(':')[0], header.message)
            : new ProtocolError(header.message, { cause: header.code }),
        )
      default:
        this.session.receive(header, body)
    }
  }

  #welcome(serverInstance: string): void {
    if (this.#state !== 'connecting') return
    // A new session (the server restarted, or dropped ours) numbers its requests from
    // 1 again: what we remember of the old one's must not answer them.
    if (this.#serverInstance !== undefined && this.#serverInstance !== serverInstance) {
      this.session.resetIncoming()
      // The same server process dropped our session and made a new one, which knows
      // nothing of the requests sent to the old: sending them again could run them
      // twice, so their callers learn that the outcome is unknown. A restarted server
      // gets them again (requests survive an outage; docs/limits.md says what that risks).
      if (sameProcess(this.#serverInstance, serverInstance)) {
        this.session.failSent(
          new OutcomeUnknownError(
            `the server's session of ${this.#options.clientId} was replaced while the request was in flight`,
          ),
        )
      }
    }
    this.#serverInstance = serverInstance
    this.#state = 'connected'
    this.session.attach((message) => this.#socket?.send(message))
    const first = !this.#connectedOnce
    this.#connectedOnce = true
    this.#settleWaiters()
    logger.debug('connected to {endpoint}', { endpoint: this.#endpoint })
    this.#options.onConnect?.(first)
  }

  /** The server lost our session (it restarted): handshake again on the same socket. */
  #lostSession(reason: string): void {
    logger.warn('{endpoint} dropped the session of this client ({reason}); handshaking again', {
      endpoint: this.#endpoint,
      reason,
    })
    this.#options.onDisconnect?.(reason)
    this.#hello()
  }

  #reconnect(reason: string): void {
    if (this.#state === 'closed' || this.#state === 'failed') return
    if (this.#state === 'connected') this.#options.onDisconnect?.(reason)
    const old = this.#socket
    this.#socket = undefined
    old?.close().catch((error) =>
      logger.debug('closing the old socket to {endpoint} failed: {error}', {
        endpoint: this.#endpoint,
        error,
      })
    )
    this.#lastSeen = this.#options.clock.now()
    this.#open()
  }

  #tick(): void {
    if (this.#state === 'closed' || this.#state === 'failed') return
    if (this.#options.clock.now() - this.#lastSeen > this.#aliveMs) {
      this.#reconnect(`no word from the server for more than ${this.#aliveMs} ms`)
      return
    }
    if (this.#state === 'connected') this.#socket?.send(frames({ kind: Kind.ping }))
    else if (this.#state === 'connecting' && this.#helloAgain) this.#hello()
  }

  /** A message past the size limit is not decoded; the request it answers fails. */
  #refuseLarge(header: Uint8Array | undefined, bytes: number): void {
    const error = new LimitExceededError(
      'message-bytes',
      `message-bytes: a message of ${bytes} bytes passes the limit of ${this.#maxMessageBytes}`,
    )
    this.#refusals.refuse('message-bytes', error.message)
    if (header === undefined || header.length > 64 * 1024) return
    if (!isHeaderOfKind(header, Kind.reply) && !isHeaderOfKind(header, Kind.fail)) return
    try {
      const id = (decode(header) as unknown[])[1]
      if (typeof id === 'number') this.session.abandon(id, error)
    } catch {
      // not a header after all: nothing to fail
    }
  }

  #fail(error: Error): void {
    logger.error('the server refused this client: {message}', { message: error.message })
    this.#state = 'failed'
    this.#failure = error
    this.session.close(error)
    this.#settleWaiters(error)
  }

  #settleWaiters(error?: Error): void {
    for (const waiter of this.#waiters) error ? waiter.reject(error) : waiter.resolve()
    this.#waiters.clear()
  }
}

/** Whether two session names (`process/number`, from welcomes) come from one server process. */
function sameProcess(before: string, after: string): boolean {
  return before.split('/')[0] === after.split('/')[0]
}
