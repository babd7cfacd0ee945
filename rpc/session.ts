/**
 * One side of an rpc conversation, independent of sockets: the table of requests
 * it sent (with deadlines, cancellation, re-sending after a reconnect and "busy"
 * push-back) and the requests it serves (at most once per id, a bound on how many
 * run at a time, an `AbortSignal` each).
 *
 * @module
 */
import type { TickManager } from '../common/clock.ts'
import { ClosedError, ErrorCode, TimeoutError } from '../common/errors.ts'
import { Deadlines } from './_deadlines.ts'
import { describeError, errorFromWire } from './wire_errors.ts'
import { eventHeader, frames, type Header, Kind } from './_frames.ts'
import { oversized } from './_message_size.ts'
import { AnswerCache } from './_answers.ts'
import { ServedRequest } from './_served.ts'

/**
 * Options of one outgoing request.
 *
 * @example
 * ```ts
 * import type { RequestOptions } from '@huly/network/rpc'
 * const options: RequestOptions = { timeoutMs: 5_000, signal: AbortSignal.timeout(10_000) }
 * ```
 */
export interface RequestOptions {
  /** Deadline in milliseconds; the session's default when absent. */
  timeoutMs?: number
  /** Cancels the request: it fails at once and the other side's handler is aborted. */
  signal?: AbortSignal
  /** Small routing data carried in the header, readable without decoding the body. */
  meta?: unknown
  /** The W3C `traceparent` of the caller's span, carried in the header. */
  trace?: string
  /**
   * An incoming request this one serves (a forward): when that one is aborted (its
   * caller cancelled, timed out or left), this one is cancelled too. It does what
   * passing its `signal` does, without making an `AbortController` per request.
   */
  follows?: IncomingRequest
}

/**
 * A request as its handler sees it: the body stays encoded until the handler
 * decides to decode it (or forwards it as it is).
 *
 * @example
 * ```ts
 * import { decode, encode, type RequestHandler } from '@huly/network/rpc'
 * const echo: RequestHandler = (request) => Promise.resolve(encode(decode(request.body)))
 * ```
 */
export interface IncomingRequest {
  /** The operation name. */
  operation: string
  /** Routing data from the header. */
  meta: unknown
  /** The encoded body. */
  body: Uint8Array
  /** Milliseconds left before the caller's deadline, when it was received. */
  timeoutMs: number
  /** Fires when the caller cancels, or the request's deadline passes. */
  signal: AbortSignal
  /** The session it came on. */
  session: RpcSession
  /** The caller's W3C `traceparent`, when the request is traced. */
  trace: string | undefined
}

/**
 * Serves one incoming request and resolves with the encoded reply body.
 *
 * @example
 * ```ts
 * import type { RequestHandler } from '@huly/network/rpc'
 * const handler: RequestHandler = (request) => Promise.resolve(request.body)
 * ```
 */
export type RequestHandler = (request: IncomingRequest) => Promise<Uint8Array>

/**
 * Options of an {@link RpcSession}.
 *
 * @example
 * ```ts
 * import type { SessionOptions } from '@huly/network/rpc'
 * const options: SessionOptions = { requestTimeoutMs: 30_000, maxInFlight: 1024 }
 * ```
 */
export interface SessionOptions {
  /** Default deadline of outgoing requests, in milliseconds (30 000). */
  requestTimeoutMs?: number
  /** Incoming requests served at once; more are answered "busy" (1024). */
  maxInFlight?: number
  /** Answers of recent requests kept to answer a re-sent request again (1024). */
  replayCache?: number
  /**
   * Bytes of kept answers (1 MiB): older ones are forgotten first, and a larger
   * answer is remembered only as "answered", so a re-send of it fails instead of
   * running twice.
   */
  replayCacheBytes?: number
  /** Told of every "busy" push-back: one this side `sent`, or one it `received`. */
  onBusy?: (direction: 'sent' | 'received') => void
}

interface Outgoing {
  id: number
  operation: string
  body: Uint8Array
  meta: unknown
  trace: string | undefined
  timeoutMs: number
  deadline: number
  resolve: (body: Uint8Array) => void
  reject: (error: unknown) => void
  busyRetries: number
  /** It left at least once: the peer may have run it. */
  sent: boolean
  signal?: AbortSignal
  onAbort?: () => void
  follows?: ServedRequest
}

/** Who a session talks to; set by the rpc server after a handshake, by the client at once. */
interface PeerIdentity {
  peerId: string
  credentials?: unknown
  userId?: string
}

let identify: (session: RpcSession, peer: PeerIdentity) => void

/** Sets who `session` talks to: only the rpc client and server call this (not in mod.ts). */
export function identifySession(session: RpcSession, peer: PeerIdentity): void {
  identify(session, peer)
}

/**
 * One side of an rpc conversation over any transport that sends frames.
 *
 * @example
 * ```ts
 * import { ManualTickManager } from '@huly/network/core'
 * import { RpcSession } from '@huly/network/rpc'
 * const session = new RpcSession(new ManualTickManager(), (request) => Promise.resolve(request.body))
 * session.close()
 * ```
 */
export class RpcSession {
  #peerId = ''
  #credentials: unknown = undefined
  #userId = ''
  readonly #clock: TickManager
  readonly #handler: RequestHandler
  readonly #requestTimeoutMs: number
  readonly #maxInFlight: number
  readonly #onBusy: SessionOptions['onBusy']
  #send: ((message: Uint8Array[]) => void) | undefined
  readonly #pending = new Map<number, Outgoing>()
  readonly #running = new Map<number, ServedRequest>()
  readonly #outgoingDeadlines: Deadlines<Outgoing>
  readonly #incomingDeadlines: Deadlines<ServedRequest>
  readonly #answers: AnswerCache
  #nextId = 1
  #closed = false

  static {
    identify = (session, peer) => {
      session.#peerId = peer.peerId
      if ('credentials' in peer) session.#credentials = peer.credentials
      if ('userId' in peer) session.#userId = peer.userId ?? ''
    }
  }

  /** Id of the peer, once known (a client id on servers). */
  get peerId(): string {
    return this.#peerId
  }

  /** Credentials the peer presented in its handshake. */
  get credentials(): unknown {
    return this.#credentials
  }

  /** The peer's authenticated identity (its ZAP `User-Id`), `''` when none. */
  get userId(): string {
    return this.#userId
  }

  /** Creates a session that serves incoming requests with `handler`. */
  constructor(clock: TickManager, handler: RequestHandler, options: SessionOptions = {}) {
    this.#clock = clock
    this.#handler = handler
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000
    this.#maxInFlight = options.maxInFlight ?? 1024
    this.#answers = new AnswerCache(
      options.replayCache ?? 1024,
      options.replayCacheBytes ?? 1024 * 1024,
    )
    this.#onBusy = options.onBusy
    this.#outgoingDeadlines = new Deadlines(clock, (request) =>
      this.#settle(
        request.id,
        new TimeoutError(`${request.operation} got no answer in ${request.timeoutMs} ms`),
        true,
      ))
    this.#incomingDeadlines = new Deadlines(
      clock,
      (served) => served.abort(new TimeoutError(`${served.operation} passed its deadline`)),
    )
  }

  /** Whether the session has a transport to send on. */
  get attached(): boolean {
    return this.#send !== undefined
  }

  /** Requests sent and not answered yet. */
  get pendingCount(): number {
    return this.#pending.size
  }

  /** Answers kept for requests the peer may re-send (forgotten once it settles them). */
  get rememberedAnswers(): number {
    return this.#answers.size
  }

  /** Incoming requests being served now. */
  get runningCount(): number {
    return this.#running.size
  }

  /** Sends on `send` from now on, re-sending every unanswered request (ids unchanged). */
  attach(send: (message: Uint8Array[]) => void): void {
    this.#send = send
    for (const [id, request] of this.#pending) this.#transmit(id, request)
  }

  /** Stops sending; unanswered requests wait for the next {@link RpcSession.attach}. */
  detach(): void {
    this.#send = undefined
  }

  /** Sends a request and resolves with the encoded reply body. */
  request(operation: string, body: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new ClosedError('the rpc session is closed'))
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    const follows = options.follows instanceof ServedRequest ? options.follows : undefined
    if (follows?.aborted) return Promise.reject(follows.reason)
    const tooLarge = oversized(`request "${operation}"`, [body])
    if (tooLarge !== undefined) return Promise.reject(tooLarge)
    const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs
    const id = this.#nextId++
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>()
    const request: Outgoing = {
      id,
      operation,
      body,
      meta: options.meta,
      trace: options.trace,
      timeoutMs,
      deadline: this.#clock.now() + timeoutMs,
      resolve,
      reject,
      busyRetries: 0,
      sent: false,
      signal,
    }
    if (signal !== undefined) {
      request.onAbort = () => this.#settle(id, signal.reason, true)
      signal.addEventListener('abort', request.onAbort, { once: true })
    }
    if (follows !== undefined) {
      request.follows = follows
      follows.follower = () => this.#settle(id, follows.reason, true)
    }
    this.#pending.set(id, request)
    this.#outgoingDeadlines.add(request)
    this.#transmit(id, request)
    return promise
  }

  /**
   * Sends an event; false when the session has no transport now. Throws
   * `MessageTooLargeError` for a body over the limit.
   */
  event(topic: string, body: Uint8Array, meta?: unknown): boolean {
    const tooLarge = oversized(`event "${topic}"`, [body])
    if (tooLarge !== undefined) throw tooLarge
    if (this.#send === undefined) return false
    this.#send([eventHeader(topic, meta), body])
    return true
  }

  /** Sends a message that is not a request (ping, bye, …). */
  sendRaw(message: Uint8Array[]): boolean {
    if (this.#send === undefined) return false
    this.#send(message)
    return true
  }

  /**
   * Handles a parsed message about requests (request, reply, fail, cancel, busy,
   * reject); returns false for the kinds it does not own.
   */
  receive(header: Header, body: Uint8Array): boolean {
    switch (header.kind) {
      case Kind.request:
        if (header.ack !== undefined) this.#answers.forgetUpTo(header.ack)
        this.#serve(header.id, header.operation, header.timeoutMs, header.meta, body, header.trace)
        return true
      case Kind.reply:
        this.#settle(header.id, body, false)
        return true
      case Kind.fail:
        this.#settle(header.id, errorFromWire(header.name, header.message, header.code), false)
        return true
      case Kind.cancel:
        this.#running.get(header.id)?.abort(new ClosedError('the caller cancelled the request'))
        return true
      case Kind.busy:
        this.#onBusy?.('received')
        this.#retryLater(header.id)
        return true
      default:
        return false
    }
  }

  /**
   * Fails every pending request that was sent with `error`, and keeps those that
   * never left: the peer's new session does not know the sent ones, and sending
   * them again could run them twice.
   */
  failSent(error: Error): void {
    for (const [id, request] of [...this.#pending]) {
      if (request.sent) this.#settle(id, error, false)
    }
  }

  /** Fails one pending request with `error` and tells the peer to stop it. */
  abandon(id: number, error: Error): void {
    this.#settle(id, error, true)
  }

  /**
   * The peer is a new incarnation (it restarted): its request ids start again, so
   * what is remembered of the old one's requests is forgotten and its running
   * handlers are aborted.
   */
  resetIncoming(): void {
    for (const served of this.#running.values()) served.abort(new ClosedError('the peer restarted'))
    this.#running.clear()
    this.#incomingDeadlines.clear()
    this.#answers.clear()
  }

  /** Fails every request with `error`, aborts every handler, and refuses new work. */
  close(error: Error = new ClosedError('the rpc session is closed')): void {
    if (this.#closed) return
    this.#closed = true
    for (const id of [...this.#pending.keys()]) this.#settle(id, error, false)
    for (const served of this.#running.values()) served.abort(error)
    this.#running.clear()
    this.#incomingDeadlines.clear()
    this.#outgoingDeadlines.clear()
    this.#answers.clear()
    this.#send = undefined
  }

  #transmit(id: number, request: Outgoing): void {
    const remaining = Math.max(1, request.deadline - this.#clock.now())
    // Every id below the oldest pending one is settled: the peer may forget those answers.
    const ack = (this.#pending.keys().next().value ?? this.#nextId) - 1
    if (this.#send === undefined) return
    request.sent = true
    this.#send(frames({
      kind: Kind.request,
      id,
      operation: request.operation,
      timeoutMs: remaining,
      meta: request.meta,
      trace: request.trace,
      ...(ack > 0 ? { ack } : {}),
    }, request.body))
  }

  #settle(id: number, result: Uint8Array | unknown, cancelRemote: boolean): void {
    const request = this.#pending.get(id)
    if (request === undefined) return
    this.#pending.delete(id)
    this.#outgoingDeadlines.delete(request)
    if (request.onAbort) request.signal?.removeEventListener('abort', request.onAbort)
    if (request.follows !== undefined) request.follows.follower = undefined
    if (cancelRemote) this.#send?.(frames({ kind: Kind.cancel, id }))
    if (result instanceof Uint8Array) request.resolve(result)
    else request.reject(result)
  }

  /** The other side is busy: re-send after a short, growing pause. */
  #retryLater(id: number): void {
    const request = this.#pending.get(id)
    if (request === undefined) return
    const delay = Math.min(200, 2 ** request.busyRetries++)
    this.#clock.schedule(() => {
      if (this.#pending.get(id) === request) this.#transmit(id, request)
    }, delay)
  }

  #serve(
    id: number,
    operation: string,
    timeoutMs: number,
    meta: unknown,
    body: Uint8Array,
    trace: string | undefined,
  ): void {
    const answered = this.#answers.get(id)
    if (answered !== undefined) {
      this.#send?.(answered)
      return
    }
    if (this.#answers.forgot(id)) {
      this.#send?.(frames({
        kind: Kind.fail,
        id,
        name: 'OutcomeUnknownError',
        message: `${operation} ran once and its answer is no longer kept; it does not run again`,
        code: ErrorCode.OutcomeUnknown,
      }))
      return
    }
    if (this.#running.has(id) || this.#closed) return
    if (this.#running.size >= this.#maxInFlight) {
      this.#onBusy?.('sent')
      this.#send?.(frames({ kind: Kind.busy, id }))
      return
    }
    const served = new ServedRequest(
      operation,
      meta,
      body,
      timeoutMs,
      this,
      this.#clock.now() + timeoutMs,
      trace,
    )
    this.#running.set(id, served)
    this.#incomingDeadlines.add(served)
    let reply: Promise<Uint8Array>
    try {
      reply = this.#handler(served)
    } catch (error) {
      reply = Promise.reject(error)
    }
    reply.then(
      (result) => {
        const tooLarge = oversized(`the answer to "${served.operation}"`, [result])
        const answer = tooLarge === undefined
          ? frames({ kind: Kind.reply, id }, result)
          : frames({ kind: Kind.fail, id, ...describeError(tooLarge) })
        this.#answer(id, served, answer)
      },
      (error) => this.#answer(id, served, frames({ kind: Kind.fail, id, ...describeError(error) })),
    )
  }

  #answer(id: number, served: ServedRequest, message: Uint8Array[]): void {
    this.#incomingDeadlines.delete(served)
    if (this.#running.get(id) !== served) return
    this.#running.delete(id)
    this.#answers.remember(id, message)
    if (!served.aborted) this.#send?.(message)
  }
}
