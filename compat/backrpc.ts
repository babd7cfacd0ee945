/**
 * huly.net's `BackRPCServer` and `BackRPCClient` with their handler interfaces, on
 * this library's rpc layer (its wire protocol, not huly.net's JSON frames): requests
 * both ways, events from server to client, hello and close notifications.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type { TickManager } from '../common/clock.ts'
import { ClosedError, NotConnectedError } from '../common/errors.ts'
import { RpcClient } from '../rpc/client.ts'
import { decode, encode } from '../rpc/codec.ts'
import { RpcServer } from '../rpc/server.ts'
import type { IncomingRequest } from '../rpc/session.ts'
import { bindHost } from './server.ts'
import { splitAddress } from './endpoints.ts'
import { timeouts } from './utils.ts'

const logger = getLogger(['huly-network', 'compat', 'backrpc'])

/** The event topic of `BackRPCServer.send`. */
const EVENT_TOPIC = 'backrpc'

/**
 * The id of a BackRPC client.
 *
 * @example
 * ```ts
 * import type { ClientId } from '@huly/network/compat'
 * const id = 'client-1' as ClientId
 * ```
 */
export type ClientId = string & { __clientId: string }

/**
 * huly.net's JSON text of `data`, with `undefined` written as `null`.
 *
 * @example
 * ```ts
 * import { stringifyJSON } from '@huly/network/compat'
 * console.assert(stringifyJSON([1, undefined]) === '[1,null]')
 * ```
 */
export function stringifyJSON(data: unknown): string {
  return JSON.stringify(data, (_key, value) => value === undefined ? null : value)
}

/**
 * huly.net's JSON parse: the value of `text`, or `undefined` (logged) when it is not JSON.
 *
 * @example
 * ```ts
 * import { parseJSON } from '@huly/network/compat'
 * console.assert(parseJSON('{"a":null}').a === null && parseJSON('{') === undefined)
 * ```
 */
// deno-lint-ignore no-explicit-any
export function parseJSON(text: string): any {
  try {
    return JSON.parse(text)
  } catch (error) {
    logger.error('failed to parse JSON: {error}', { error })
    return undefined
  }
}

/**
 * Sends the answer of one request.
 *
 * @example
 * ```ts
 * import type { BackRPCResponseSend } from '@huly/network/compat'
 * const answer = (send: BackRPCResponseSend) => send({ ok: true })
 * ```
 */
export type BackRPCResponseSend = (response: unknown) => Promise<void>

/**
 * What a `BackRPCServer` calls: requests from clients, their hellos and their ends.
 *
 * @example
 * ```ts
 * import type { BackRPCServerHandler, ClientId } from '@huly/network/compat'
 * const handler: BackRPCServerHandler<ClientId> = {
 *   requestHandler: (_client, method, params, send) => send({ method, params }),
 * }
 * ```
 */
export interface BackRPCServerHandler<ClientT> {
  /** Answers `method` from `client` by calling `send` once. */
  requestHandler(
    client: ClientT,
    method: string,
    params: unknown,
    send: BackRPCResponseSend,
  ): Promise<void>
  /** A client connected (or connected again after its session ended). */
  helloHandler?(client: ClientT): Promise<void>
  /** A client's session ended; `timeout` when it fell silent. */
  closeHandler?(client: ClientT, timeout: boolean): Promise<void>
  /** A client pinged (every ping interval, or at its `checkAlive`). */
  onPing?(client: ClientT): void
}

/**
 * What a `BackRPCClient` calls: requests from the server, events and each connection.
 *
 * @example
 * ```ts
 * import type { BackRPCClientHandler } from '@huly/network/compat'
 * const handler: BackRPCClientHandler = {
 *   requestHandler: (method, _params, send) => send(`client got ${method}`),
 *   onEvent: async (event) => console.log(event),
 * }
 * ```
 */
export interface BackRPCClientHandler {
  /** Answers `method` from the server by calling `send` once. */
  requestHandler(method: string, params: unknown, send: BackRPCResponseSend): Promise<void>
  /** Called at each connection, the first and every one after a loss. */
  onRegister?(): Promise<void>
  /** Receives the server's events. */
  onEvent?(event: unknown): Promise<void>
}

/** Runs a huly.net-style handler (answer through `send`) as our request handler. */
async function answer(
  request: IncomingRequest,
  handle: (params: unknown, send: BackRPCResponseSend) => Promise<void>,
): Promise<Uint8Array> {
  const { promise, resolve, reject } = Promise.withResolvers<unknown>()
  handle(decode(request.body), (response) => {
    resolve(response)
    return Promise.resolve()
  }).catch(reject)
  return encode(await promise)
}

function quietly(work: Promise<void> | undefined, what: string): void {
  work?.catch((error) => logger.warn('{what} failed: {error}', { what, error }))
}

/**
 * Counters of a `BackRPCServer` since its last check: pings, requests received,
 * responses to its own requests received, hellos.
 *
 * @example
 * ```ts
 * import type { BackRPCServerStats } from '@huly/network/compat'
 * const stats: BackRPCServerStats = { pings: 0, requests: 0, responses: 0, hellos: 0 }
 * ```
 */
export interface BackRPCServerStats {
  /** Pings from clients. */
  pings: number
  /** Requests from clients. */
  requests: number
  /** Answers (or failures) of the server's requests to clients. */
  responses: number
  /** Handshakes of clients, new and again. */
  hellos: number
}

/** Runs at most `limit()` tasks of one client at once; the others wait in order. */
class PerClientLimiter {
  readonly #running = new Map<string, { active: number; waiting: Array<() => void> }>()

  constructor(readonly limit: () => number) {}

  async run<T>(client: string, task: () => Promise<T>): Promise<T> {
    let entry = this.#running.get(client)
    if (entry === undefined) this.#running.set(client, entry = { active: 0, waiting: [] })
    if (entry.active >= Math.max(1, this.limit())) {
      await new Promise<void>((resolve) => entry!.waiting.push(resolve))
    }
    entry.active++
    try {
      return await task()
    } finally {
      entry.active--
      const next = entry.waiting.shift()
      if (next !== undefined) next()
      else if (entry.active === 0) this.#running.delete(client)
    }
  }
}

/**
 * A server clients connect to, listening at once on `host:port` (`*` for every
 * interface, `'random'` for a free port).
 *
 * @example
 * ```ts
 * import { BackRPCClient, BackRPCServer, type ClientId, TickManagerImpl } from '@huly/network/compat'
 * const tick = new TickManagerImpl(20)
 * tick.start()
 * const server = new BackRPCServer<ClientId>({
 *   requestHandler: (_client, method, params, send) => send([method, params]),
 * }, tick, '127.0.0.1', 'random')
 * const client = new BackRPCClient('c1' as ClientId, {
 *   requestHandler: (_m, _p, send) => send(null),
 * }, '127.0.0.1', await server.getPort(), tick)
 * console.assert(JSON.stringify(await client.request('hi', 1)) === '["hi",1]')
 * client.close()
 * await server.close()
 * tick.stop()
 * ```
 */
export class BackRPCServer<ClientT extends string = ClientId> {
  /** This server's id. */
  readonly uuid: string = crypto.randomUUID()
  /**
   * Requests of one client handled at once (25); the client's further requests
   * wait for one of them to be answered.
   */
  requestsLimitPerClient = 25
  /** What came in since the last check (every ping interval), as huly.net counts it. */
  readonly stats: BackRPCServerStats = { pings: 0, requests: 0, responses: 0, hellos: 0 }
  readonly #rpc: RpcServer
  readonly #endpoint: string
  readonly #limiter: PerClientLimiter
  readonly #unregisterStats: () => void

  /** Listens on `host:port` and serves `handlers` (huly.net's zeromq socket options are ignored). */
  constructor(
    handlers: BackRPCServerHandler<ClientT>,
    tickMgr: TickManager,
    readonly host: string = '*',
    port: number | 'random' = 'random',
    _socketOptions?: unknown,
  ) {
    this.#limiter = new PerClientLimiter(() => this.requestsLimitPerClient)
    this.#rpc = new RpcServer({
      clock: tickMgr,
      serverId: this.uuid,
      aliveTimeoutMs: timeouts.aliveTimeout * 1000,
      checkIntervalMs: timeouts.pingInterval * 1000,
      handler: (request) => {
        this.stats.requests++
        return this.#limiter.run(request.session.peerId, () =>
          answer(
            request,
            (params, send) =>
              handlers.requestHandler(
                request.session.peerId as ClientT,
                request.operation,
                params,
                send,
              ),
          ))
      },
      onSession: (session, resumed) => {
        this.stats.hellos++
        if (!resumed) quietly(handlers.helloHandler?.(session.peerId as ClientT), 'helloHandler')
      },
      onPing: (session) => {
        this.stats.pings++
        try {
          handlers.onPing?.(session.peerId as ClientT)
        } catch (error) {
          logger.warn('onPing failed: {error}', { error })
        }
      },
      onEvent: (session, topic) =>
        logger.debug('event {topic} from {clientId}: no handler takes it', {
          topic,
          clientId: session.peerId,
        }),
      onSessionClosed: (session, reason) =>
        quietly(
          handlers.closeHandler?.(session.peerId as ClientT, reason.startsWith('silent')),
          'closeHandler',
        ),
    })
    this.#endpoint = this.#rpc.listen(`tcp://${bindHost(host)}:${port === 'random' ? 0 : port}`)
    this.#unregisterStats = tickMgr.every(() => this.#resetStats(), timeouts.pingInterval * 1000)
  }

  /** Drops the clients silent for longer than their alive timeout now, as the clock does every ping interval. */
  checkAlive(): Promise<void> {
    this.#resetStats()
    this.#rpc.checkLiveness()
    return Promise.resolve()
  }

  #resetStats(): void {
    this.stats.pings =
      this.stats.requests =
      this.stats.responses =
      this.stats.hellos =
        0
  }

  /** The port it listens on. */
  getPort(): Promise<number> {
    return Promise.resolve(splitAddress(this.#endpoint).port)
  }

  /** Sends a request to a connected client. */
  async request(clientId: ClientT, method: string, params: unknown): Promise<unknown> {
    const session = this.#rpc.session(clientId)
    if (session === undefined) throw new NotConnectedError(`Client ${clientId} not found`)
    try {
      return decode(await session.request(method, encode(params)))
    } finally {
      this.stats.responses++
    }
  }

  /** Sends an event to a connected client. */
  send(clientId: ClientT, body: unknown): Promise<void> {
    const session = this.#rpc.session(clientId)
    if (session === undefined) {
      return Promise.reject(new NotConnectedError(`Client ${clientId} not found`))
    }
    session.event(EVENT_TOPIC, encode(body))
    return Promise.resolve()
  }

  /** Stops listening; the clients' sessions end. */
  close(): Promise<void> {
    this.#unregisterStats()
    return this.#rpc.close()
  }
}

/**
 * A client of a `BackRPCServer`: it connects in the background and again after a
 * loss; requests wait for the connection.
 *
 * @example
 * ```ts ignore
 * import { BackRPCClient, type ClientId, TickManagerImpl } from '@huly/network/compat'
 * const client = new BackRPCClient('c1' as ClientId, {
 *   requestHandler: (method, _params, send) => send(`client got ${method}`),
 * }, 'localhost', 3737, new TickManagerImpl(20))
 * console.log(await client.request('status', {}))
 * client.close()
 * ```
 */
export class BackRPCClient<ClientT extends string = ClientId> {
  readonly #rpc: RpcClient
  #closed = false

  /** Connects to `host:port` as `clientId`; `aliveTimeout` in seconds (zeromq socket options are ignored). */
  constructor(
    readonly clientId: ClientT,
    readonly client: BackRPCClientHandler,
    readonly host: string,
    readonly port: number,
    tickMgr: TickManager,
    _socketOptions?: unknown,
    aliveTimeout?: number,
  ) {
    this.#rpc = new RpcClient(`tcp://${host}:${port}`, {
      clock: tickMgr,
      clientId,
      aliveTimeoutMs: (aliveTimeout ?? timeouts.aliveTimeout) * 1000,
      pingIntervalMs: timeouts.pingInterval * 1000,
      handler: (request) =>
        answer(request, (params, send) => client.requestHandler(request.operation, params, send)),
      onEvent: (topic, _meta, body) => {
        if (topic === EVENT_TOPIC) quietly(client.onEvent?.(decode(body)), 'onEvent')
      },
      onConnect: () => quietly(client.onRegister?.(), 'onRegister'),
    })
  }

  /** Waits until it is connected. */
  waitConnection(): Promise<void> {
    return this.#rpc.waitConnection()
  }

  /**
   * Pings the server now, as the clock does every ping interval; a server that
   * dropped this client's session makes it connect again (a new hello).
   */
  checkAlive(): Promise<void> {
    this.#rpc.ping()
    return Promise.resolve()
  }

  /** Sends a request to the server; `ClosedError` 'Client closed' once closed. */
  async request<T>(method: string, params: unknown): Promise<T> {
    try {
      return decode(await this.#rpc.request(method, encode(params))) as T
    } catch (error) {
      if (this.#closed && error instanceof ClosedError) {
        throw new ClosedError('Client closed', { cause: error })
      }
      throw error
    }
  }

  /** Sends an event to the server (which no huly.net handler receives: it is logged). */
  send(body: unknown): Promise<void> {
    this.#rpc.event(EVENT_TOPIC, encode(body))
    return Promise.resolve()
  }

  /** Disconnects; pending requests fail. */
  close(): void {
    this.#closed = true
    this.#rpc.close().catch((error) => logger.warn('closing failed: {error}', { error }))
  }
}
