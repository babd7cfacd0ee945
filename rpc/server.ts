/**
 * The rpc server: a ROUTER socket, one {@link RpcSession} per client id (kept
 * across that client's reconnects), the handshake, liveness, and the handling of
 * malformed input.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import {
  AuthorizationError,
  ClosedError,
  ErrorCode,
  LimitExceededError,
  MessageTooLargeError,
  NetworkError,
  ProtocolError,
} from '../common/errors.ts'
import {
  frames,
  type Header,
  Kind,
  parseMessage,
  PROTOCOL_VERSION,
  ProtocolFrameError,
} from './_frames.ts'
import { Admission, limitExceeded, requestIdOf, retryable } from './_admission.ts'
import { keyOf } from './_socket_options.ts'
import { clientAliveMs } from './_liveness.ts'
import { identifySession, RpcSession } from './session.ts'
import type { Hello, RpcServerOptions, RpcServerStats } from './server_options.ts'
import { RouterSocket } from './socket.ts'

const logger = getLogger(['huly-network', 'rpc', 'server'])

interface Peer {
  session: RpcSession
  routingId: Uint8Array
  routingKey: string
  lastSeen: number
  /** Silent for longer than this, it is dropped (its hello's `aliveMs`, within bounds). */
  aliveMs: number
  instance: string
  /** The ZAP identity of the connection; every message of the session must carry it. */
  userId: string
  /** Names this session in welcomes: a new session numbers its requests from 1 again. */
  epoch: string
}

/**
 * A ROUTER-socket rpc server.
 *
 * @example
 * ```ts ignore
 * import { TickManagerImpl } from '@huly/network/core'
 * import { RpcServer } from '@huly/network/rpc'
 * const clock = new TickManagerImpl(10)
 * clock.start()
 * const server = new RpcServer({ clock, handler: (request) => Promise.resolve(request.body) })
 * console.log(server.listen('tcp://127.0.0.1:0'))
 * await server.close()
 * clock.stop()
 * ```
 */
export class RpcServer {
  readonly #stats: RpcServerStats
  readonly #options: RpcServerOptions
  readonly #admission: Admission
  readonly #socket: RouterSocket
  readonly #byRouting = new Map<string, Peer>()
  readonly #byClient = new Map<string, Peer>()
  readonly #unregisterCheck: () => void
  readonly #aliveMs: number
  readonly #maxQueued: number
  readonly #instance = crypto.randomUUID()
  #sessions = 0
  #closing: Promise<void> | undefined

  /** What was refused or dropped so far: a read-only view of the live counters. */
  get stats(): Readonly<RpcServerStats> {
    return this.#stats
  }

  /**
   * Counts a message the layer above found malformed (`'malformed'`) or from a peer
   * not allowed to send it (`'rejected'`).
   */
  count(counter: 'malformed' | 'rejected'): void {
    this.#stats[counter]++
  }

  /** Creates the server; call {@link RpcServer.listen} to accept clients. */
  constructor(options: RpcServerOptions) {
    this.#options = options
    const admission = new Admission(options.clock, options.limits)
    this.#admission = admission
    this.#stats = { malformed: 0, rejected: 0, dropped: 0, slow: 0, refused: admission.counts }
    this.#aliveMs = options.aliveTimeoutMs ?? 3000
    this.#maxQueued = options.maxQueuedPerClient ?? 100_000
    this.#socket = new RouterSocket({
      // Counted in ZeroMQ messages, and a batch of up to 64 KiB is one: this bounds what
      // libzmq holds per peer to about 64 MiB. Beyond it, messages wait in our own queue.
      sendHighWaterMark: 1000,
      receiveHighWaterMark: 1000,
      // A message up to twice the limit is read, so that it can be refused by name
      // (LimitExceededError) and counted; past that the transport cuts the connection.
      maxMessageSize: 2 * admission.limits.maxMessageBytes,
      // A connection that does not complete the ZMTP handshake soon is closed; one that
      // does but never says hello holds no state here beyond libzmq's pipe.
      handshakeInterval: 10_000,
      heartbeat: { interval: 5_000, timeout: 15_000 },
      ...options.socket,
      transport: options.transport ?? options.socket?.transport,
      // Both ends of the rpc protocol pack queued messages into batches (rpc/_batch.ts).
      batch: true,
      onMessage: (message, userId) => this.#receive(message, userId),
      onError: (error) => {
        // The transport cut a peer that sent a message past twice the limit (zmtp says so).
        if (error instanceof MessageTooLargeError) {
          admission.refuse('message-bytes', error.message)
        } else logger.debug('send failed: {error}', { error })
      },
    })
    this.#unregisterCheck = options.clock.every(
      () => this.#checkLiveness(),
      options.checkIntervalMs ?? 1000,
    )
  }

  /** Binds an endpoint such as `tcp://127.0.0.1:3737` and returns the bound one. */
  listen(endpoint: string): string {
    return this.#socket.bind(endpoint)
  }

  /** The live sessions. */
  sessions(): RpcSession[] {
    return [...this.#byClient.values()].map((peer) => peer.session)
  }

  /** The session of a client id, if it is connected. */
  session(clientId: string): RpcSession | undefined {
    return this.#byClient.get(clientId)?.session
  }

  /** Messages queued in the socket and not yet handed to libzmq. */
  get pendingSends(): number {
    return this.#socket.pendingSends
  }

  /** Drops a client's session (its requests fail, its handlers are aborted). */
  disconnect(clientId: string, reason: string): void {
    const peer = this.#byClient.get(clientId)
    if (peer === undefined) return
    this.#send(peer.routingId, frames({ kind: Kind.bye, reason }))
    this.#drop(peer, reason)
  }

  /** Says goodbye (with `reason`) to every client and closes the socket; never hangs. */
  close(reason = 'server shutting down'): Promise<void> {
    this.#closing ??= (async () => {
      this.#unregisterCheck()
      for (const peer of [...this.#byClient.values()]) {
        this.#send(peer.routingId, frames({ kind: Kind.bye, reason }))
        this.#drop(peer, 'server closed')
      }
      await this.#socket.close()
    })()
    return this.#closing
  }

  #receive(message: Uint8Array[], userId: string): void {
    const routingId = message[0]
    const routingKey = keyOf(routingId)
    if (!this.#withinLimits(message, routingId, routingKey, userId)) return
    let parsed
    try {
      parsed = parseMessage(message.slice(1))
    } catch (error) {
      this.#stats.malformed++
      logger.debug('malformed message: {error}', { error })
      if (error instanceof ProtocolFrameError && error.requestId > 0) {
        this.#fail(routingId, error.requestId, error)
      }
      return
    }
    const { header, body } = parsed
    if (header.kind === Kind.hello) return this.#hello(routingId, routingKey, header, userId)
    const peer = this.#byRouting.get(routingKey)
    // A routing id is trusted only with the identity that said hello on it.
    if (peer === undefined || peer.userId !== userId) {
      this.#stats.rejected++
      if (!this.#admission.mayReplyWithoutSession()) return
      const id = header.kind === Kind.request ? header.id : 0
      this.#reject(routingId, id, ErrorCode.NoSession, 'no session: the handshake must come first')
      return
    }
    peer.lastSeen = this.#options.clock.now()
    switch (header.kind) {
      case Kind.ping:
        this.#send(routingId, frames({ kind: Kind.pong }))
        this.#options.onPing?.(peer.session)
        return
      case Kind.bye:
        this.#drop(peer, `client left: ${header.reason}`)
        return
      case Kind.event:
        this.#options.onEvent?.(peer.session, header.topic, header.meta, body)
        return
      default:
        if (!peer.session.receive(header, body)) {
          this.#stats.malformed++
          logger.debug('unexpected message kind {kind} from a client', { kind: header.kind })
        }
    }
  }

  #hello(
    routingId: Uint8Array,
    routingKey: string,
    header: Header & { kind: 1 },
    userId: string,
  ): void {
    const hello: Hello = { ...header, userId }
    if (hello.version !== PROTOCOL_VERSION) {
      this.#stats.rejected++
      this.#reject(
        routingId,
        0,
        ErrorCode.ProtocolVersion,
        `unsupported protocol version ${hello.version}; this server speaks version ${PROTOCOL_VERSION}`,
      )
      return
    }
    let peerId: string
    try {
      if (hello.clientId.length === 0 || hello.clientId.length > 256) {
        throw new ProtocolError('the client id must have 1 to 256 characters')
      }
      this.#admission.checkHelloRate(routingKey, userId)
      this.#options.authenticate?.(hello)
      peerId = this.#options.peerIdOf?.(hello) ?? hello.clientId
      const holder = this.#byClient.get(peerId)
      if (holder !== undefined && holder.userId !== userId) {
        throw new AuthorizationError(
          `client id "${hello.clientId}" belongs to a session of another identity`,
        )
      }
      this.#checkClientIdFree(holder, routingKey, hello)
      if (holder === undefined) this.#admission.checkSessions(this.#byClient.size)
    } catch (error) {
      this.#stats.rejected++
      if (error instanceof LimitExceededError) {
        this.#admission.refuse(error.limit, error.message)
        this.#reject(routingId, 0, retryable(error) ? ErrorCode.TryLater : error.code, {
          name: error.name,
          message: error.message,
        })
        return
      }
      const { code, message } = error instanceof NetworkError
        ? error
        : { code: ErrorCode.Refused, message: String(error) }
      this.#reject(routingId, 0, code, message)
      return
    }
    // One session per connection: a second hello on it ends the first session.
    const previous = this.#byRouting.get(routingKey)
    if (previous !== undefined && previous.session.peerId !== peerId) {
      this.#drop(previous, 'a new hello on its connection replaced it')
    }
    let existing = this.#byClient.get(peerId)
    if (existing !== undefined && existing.instance !== hello.instance) {
      // The same client id from a restarted client: its request ids start over.
      this.#drop(existing, 'the client restarted')
      existing = undefined
    }
    const peer: Peer = existing ?? {
      session: new RpcSession(this.#options.clock, this.#options.handler, this.#options),
      routingId,
      routingKey,
      lastSeen: 0,
      aliveMs: this.#aliveMs,
      instance: hello.instance,
      userId,
      epoch: `${this.#instance}/${++this.#sessions}`,
    }
    if (existing !== undefined) this.#byRouting.delete(existing.routingKey)
    peer.routingId = routingId
    peer.routingKey = routingKey
    peer.lastSeen = this.#options.clock.now()
    peer.aliveMs = clientAliveMs(hello.aliveMs, this.#aliveMs)
    identifySession(peer.session, { peerId, credentials: hello.credentials, userId })
    this.#byRouting.set(routingKey, peer)
    this.#byClient.set(peerId, peer)
    this.#send(
      routingId,
      frames({
        kind: Kind.welcome,
        version: PROTOCOL_VERSION,
        serverId: this.#options.serverId ?? '',
        instance: peer.epoch,
      }),
    )
    peer.session.attach((message) => this.#send(peer.routingId, message))
    this.#options.onSession?.(peer.session, existing !== undefined, hello)
  }

  /** Checks what can be checked before a message is decoded; false when it is refused. */
  #withinLimits(
    message: Uint8Array[],
    routingId: Uint8Array,
    routingKey: string,
    userId: string,
  ): boolean {
    const error = this.#admission.refusal(message)
    if (error === undefined) return true
    const peer = this.#byRouting.get(routingKey)
    const id = requestIdOf(message[1])
    if (peer !== undefined && peer.userId === userId && id > 0) this.#fail(routingId, id, error)
    else this.#reject(routingId, 0, error.code, error)
    return false
  }

  /**
   * Without keys a client id is bound to the connection that holds it: a hello from
   * another connection with the same id and another instance (not a resume) waits
   * until the holder falls silent, so a peer that read the id cannot knock it off.
   */
  #checkClientIdFree(holder: Peer | undefined, routingKey: string, hello: Hello): void {
    if (holder === undefined || holder.userId !== '' || holder.routingKey === routingKey) return
    if (holder.instance === hello.instance) return
    if (this.#options.clock.now() - holder.lastSeen > this.#aliveMs / 2) return
    throw limitExceeded(
      'client-id',
      `client id "${hello.clientId}" is held by a live connection; retry once it is silent`,
    )
  }

  /** Checks liveness now, as the clock does every check interval: silent and slow clients are dropped. */
  checkLiveness(): void {
    this.#checkLiveness()
  }

  #checkLiveness(): void {
    const now = this.#options.clock.now()
    for (const peer of [...this.#byClient.values()]) {
      // Still more than the bound waiting one check later: this client does not keep up.
      if (this.#socket.pendingSends > this.#maxQueued) {
        this.#dropIfSlow(peer.routingId, this.#maxQueued)
      }
      if (now - peer.lastSeen > peer.aliveMs) {
        this.#stats.dropped++
        this.#drop(peer, `silent for more than ${peer.aliveMs} ms`)
      }
    }
  }

  #drop(peer: Peer, reason: string): void {
    if (this.#byClient.get(peer.session.peerId) !== peer) return
    this.#byClient.delete(peer.session.peerId)
    this.#byRouting.delete(peer.routingKey)
    peer.session.close(new ClosedError(`the session of ${peer.session.peerId} ended: ${reason}`))
    logger.debug('session of {clientId} ended: {reason}', { clientId: peer.session.peerId, reason })
    this.#options.onSessionClosed?.(peer.session, reason)
  }

  #fail(routingId: Uint8Array, id: number, error: NetworkError): void {
    this.#send(
      routingId,
      frames({ kind: Kind.fail, id, name: error.name, message: error.message, code: error.code }),
    )
  }

  #reject(
    routingId: Uint8Array,
    id: number,
    code: string,
    what: string | { name: string; message: string },
  ): void {
    const { name, message } = typeof what === 'string'
      ? { name: 'ProtocolError', message: what }
      : what
    this.#send(routingId, frames({ kind: Kind.reject, id, name, message, code }))
  }

  #send(routingId: Uint8Array, message: Uint8Array[]): void {
    if (this.#socket.closed) return
    this.#socket.send([routingId, ...message])
    // A burst may pass the bound for a moment; ten times the bound is never let in.
    const hardLimit = 10 * this.#maxQueued
    if (this.#socket.pendingSends > hardLimit) this.#dropIfSlow(routingId, hardLimit)
  }

  /** A client that lets more than `limit` messages wait for it is cut off, loudly. */
  #dropIfSlow(routingId: Uint8Array, limit: number): void {
    const queued = this.#socket.pendingFor(routingId)
    if (queued <= limit) return
    const peer = this.#byRouting.get(keyOf(routingId))
    const discarded = this.#socket.dropPeer(routingId)
    this.#stats.slow++
    logger.warn(
      'client {clientId} does not keep up ({queued} messages waiting); it is disconnected and {discarded} messages to it are dropped',
      { clientId: peer?.session.peerId ?? '(no session)', queued, discarded },
    )
    if (peer !== undefined) this.#drop(peer, `could not keep up: ${queued} messages waiting`)
  }
}
