/**
 * The network client: gets containers, talks to them, serves agents.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type { PeerGrant } from '../security/access.ts'
import { SpanKind } from '@opentelemetry/api'
import { AgentImpl } from '../core/agent.ts'
import { type TickManager, TickManagerImpl } from '../common/clock.ts'
import {
  ClosedError,
  ContainerMovingError,
  ContainerNotFoundError,
  InvalidArgumentError,
  NotConnectedError,
  TimeoutError,
} from '../common/errors.ts'
import { requirePositive } from '../common/validate.ts'
import { DEFAULT_DRAIN_DEADLINE_MS } from '../core/drain.ts'
import type { Remote } from '../core/proxy.ts'
import {
  ContainerOperation,
  EventTopic,
  NetworkOperation,
  type RevokedParams,
  type RouteMeta,
} from '../core/protocol.ts'
import { resolveTimeouts, type Timeouts } from '../core/timeouts.ts'
import { TracerName, tracingEnabled, withRequestSpan } from '../observability/tracing.ts'
import { ClientMetrics } from './_metrics.ts'
import type {
  AgentRecord,
  AgentUuid,
  ClientUuid,
  Container,
  ContainerFactory,
  ContainerKind,
  ContainerRecord,
  ContainerUuid,
  DrainOptions,
  DrainResult,
  EndpointRef,
  GetOptions,
  NetworkEvent,
  NetworkEventListener,
  RegisterResult,
  StartOptions,
} from '../core/types.ts'
import { RpcClient, type RpcClientOptions } from '../rpc/client.ts'
import { decode, encode } from '../rpc/codec.ts'
import { RpcServer } from '../rpc/server.ts'
import type { RequestOptions } from '../rpc/session.ts'
import type { CurveClientOptions } from '../rpc/zmq/types.ts'
import { EndpointGuard } from './_endpoint_guard.ts'
import { AgentHost, ConnectionTable, handleEndpointRequest } from './agent_host.ts'
import {
  castRequests,
  type ConnectOptions,
  type ContainerConnection,
  type ContainerEventHandler,
  type ContainerReference,
  PENDING_EVENT_LIMIT,
} from './reference.ts'

const logger = getLogger(['huly-network', 'client'])

/** How long a call waits for the first connection to the coordinator. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000

/** How long a drained agent's endpoint stays open for clients still on their way. */
const DRAIN_LINGER_MS = 1000

/** How long past its deadline a drain's answer is awaited. */
const DRAIN_ANSWER_MARGIN_MS = 10_000

/** A request refused because its container moves, or is gone from that place: it did not run. */
function notRunHere(error: unknown): boolean {
  return error instanceof ContainerMovingError || error instanceof ContainerNotFoundError
}

/**
 * What a client asks for in a get: a uuid, labels, start parameters (plain strings
 * accepted).
 *
 * @example
 * ```ts
 * import type { ContainerQuery } from '@huly/network/client'
 * const query: ContainerQuery = { uuid: 'session-user1', labels: ['ws:1'] }
 * ```
 */
export type ContainerQuery = Omit<GetOptions, 'uuid'> & { uuid?: string }

/**
 * Options of {@link createNetworkClient}.
 *
 * @example
 * ```ts
 * import type { NetworkClientOptions } from '@huly/network/client'
 * const options: NetworkClientOptions = { timeouts: { requestTimeout: 10 } }
 * ```
 */
export interface NetworkClientOptions {
  /** The client's id (a random uuid when absent). */
  clientId?: string
  /** Timings in seconds: ping interval, alive timeout, request timeout. */
  timeouts?: Partial<Timeouts>
  /** Credentials for the handshake. */
  credentials?: unknown
  /**
   * Options of the client's sockets. With `curve` (the coordinator's public key as
   * `serverKey`, and this client's key pair) every link is encrypted: direct links
   * to agent endpoints use the endpoint's public key from its record, and agent
   * endpoints this client serves encrypt with its key pair and admit only keys the
   * coordinator knows.
   */
  socket?: RpcClientOptions['socket']
  /**
   * The socket transport of every link and agent endpoint: `zmtp` (ZMTP on Deno's
   * TCP, the default) or `libzmq` (FFI). It talks to peers on either transport.
   */
  transport?: RpcClientOptions['transport']
  /**
   * How long a call waits for the first connection to the coordinator before it fails
   * with `NotConnectedError` (5000 ms). After a first connection, calls wait for the
   * client to reconnect and are bound by the request timeout alone.
   */
  connectTimeoutMs?: number
  /** The clock (a real one, started and stopped by the client, when absent). */
  clock?: TickManager
  /**
   * Told when the connection to the coordinator comes up (`true`) or is lost
   * (`false`, with the reason). The client reconnects by itself either way.
   */
  onConnectionChange?: (connected: boolean, reason?: string) => void
}

/**
 * A stateless container an agent declares at start: several agents may declare
 * one uuid; the network serves the first and keeps the others standing by.
 *
 * @example
 * ```ts
 * import type { Container, ContainerKind, ContainerUuid } from '@huly/network/core'
 * import type { StatelessContainer } from '@huly/network/client'
 * declare const container: Container
 * const declared: StatelessContainer = {
 *   options: { uuid: 'ha-1' as ContainerUuid, kind: 'ha' as ContainerKind, labels: [] },
 *   container,
 * }
 * ```
 */
export interface StatelessContainer {
  /** Its uuid, kind and labels. */
  options: StartOptions
  /** The instance. */
  container: Container
}

/**
 * Options of {@link NetworkClient.serveAgent}.
 *
 * @example
 * ```ts
 * import type { ServeAgentOptions } from '@huly/network/client'
 * const options: ServeAgentOptions = { agentId: 'agent-1' }
 * ```
 */
export interface ServeAgentOptions {
  /** The agent's id (a random uuid when absent). */
  agentId?: string
  /** Stateless containers it declares. */
  stateless?: StatelessContainer[]
  /** The address clients use to reach the endpoint, when it differs from the bound one. */
  advertise?: string
  /** The endpoint's socket transport; the client's (`NetworkClientOptions.transport`) when absent. */
  transport?: RpcClientOptions['transport']
}

/**
 * An agent served by a client: its own endpoint and its registration.
 *
 * @example
 * ```ts ignore
 * import type { ServedAgent } from '@huly/network/client'
 * declare const served: ServedAgent
 * console.log(served.agent.uuid, served.endpoint)
 * await served.close()
 * ```
 */
export interface ServedAgent extends AsyncDisposable {
  /** The agent. */
  readonly agent: AgentImpl
  /** Its endpoint, such as `tcp://127.0.0.1:3738`. */
  readonly endpoint: string
  /**
   * Drains the agent: the coordinator places nothing new on it and moves each of
   * its containers to another agent of its kind (see `NetworkClient.drain`).
   * Close it afterwards.
   */
  drain(options?: DrainOptions): Promise<DrainResult>
  /** Terminates its containers, unregisters the agent and closes its endpoint. */
  close(): Promise<void>
}

/**
 * A client of the network.
 *
 * @example
 * ```ts ignore
 * import { createNetworkClient } from '@huly/network/client'
 * await using client = await createNetworkClient('127.0.0.1:3737')
 * const ref = await client.get('echo', { labels: ['demo'] })
 * console.log(await ref.request('echo', { hello: 'world' }))
 * await ref.close()
 * ```
 */
export interface NetworkClient extends AsyncDisposable {
  /** The client's id. */
  readonly clientId: ClientUuid
  /** Registers an agent (again after every reconnect). */
  register(agent: AgentImpl): Promise<RegisterResult>
  /** Binds an agent endpoint at `endpoint`, creates the agent and registers it. */
  serveAgent(
    endpoint: string,
    factories: Record<string, ContainerFactory>,
    options?: ServeAgentOptions,
  ): Promise<ServedAgent>
  /**
   * Drains an agent this client registered: nothing new is placed on it and each of
   * its containers moves to another agent of its kind (requests held meanwhile,
   * state handed over when the container offers it). Resolves when every container
   * moved, or at `deadlineMs` with `complete: false` and the reason (logged too).
   */
  drain(agentId: string, options?: DrainOptions): Promise<DrainResult>
  /** Registered agents. */
  agents(): Promise<AgentRecord[]>
  /** Kinds some agent offers. */
  kinds(): Promise<ContainerKind[]>
  /** Live containers, of one kind or all. */
  list(kind?: string): Promise<ContainerRecord[]>
  /** Gets (reuses or starts) a container and holds a reference on it. */
  get(kind: string, options?: ContainerQuery): Promise<ContainerReference>
  /** Sends a request to any live container through the network. */
  request(
    target: string,
    operation: string,
    data?: unknown,
    options?: RequestOptions,
  ): Promise<unknown>
  /** Receives network events; returns the unsubscribe function. */
  onUpdate(listener: NetworkEventListener): () => void
  /** Resolves once connected; rejects after `timeoutMs` (0 or none waits forever). */
  waitConnection(timeoutMs?: number): Promise<void>
  /** Releases references, unregisters agents and disconnects. */
  close(): Promise<void>
}

/**
 * Connects to the network at `address` (`host:port` or `tcp://host:port`). The
 * client reconnects by itself; requests wait for the connection. Until it first
 * connects, a call waits at most `connectTimeoutMs` and then fails with a
 * `NotConnectedError` naming the address; an agent being served keeps trying,
 * with a warning each time.
 *
 * @example
 * ```ts ignore
 * import { createNetworkClient } from '@huly/network/client'
 * const client = await createNetworkClient('127.0.0.1:3737')
 * await client.waitConnection(5_000)
 * console.log(await client.kinds())
 * await client.close()
 * ```
 */
export function createNetworkClient(
  address: string,
  options: NetworkClientOptions = {},
): Promise<NetworkClient> {
  try {
    return Promise.resolve(new NetworkClientImpl(address, options))
  } catch (error) {
    return Promise.reject(error)
  }
}

/** A non-empty string, else an `InvalidArgumentError`. */
function requireName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${what} must be a non-empty string`)
  }
  return value
}

/** `host:port` → `tcp://host:port`; a `tcp://` address is kept. */
export function toEndpoint(address: string): string {
  if (typeof address !== 'string' || address.length === 0) {
    throw new InvalidArgumentError('the network address must be "host:port" or "tcp://host:port"')
  }
  const endpoint = address.includes('://') ? address : `tcp://${address}`
  if (
    !/^tcp:\/\/[^:/\s]+:\d{1,5}$/.test(endpoint) &&
    !/^tcp:\/\/\[[0-9a-f:]+\]:\d{1,5}$/i.test(endpoint)
  ) {
    throw new InvalidArgumentError(`bad network address "${address}": use "host:port"`)
  }
  return endpoint
}

class NetworkClientImpl implements NetworkClient {
  readonly clientId: ClientUuid
  readonly clock: TickManager
  readonly timeouts: Readonly<Timeouts>
  readonly rpc: RpcClient
  readonly #ownsClock: boolean
  readonly #options: NetworkClientOptions
  readonly #listeners = new Set<NetworkEventListener>()
  /** Open references by container uuid (a reference's uuid never changes). */
  readonly #references = new Map<ContainerUuid, Set<ReferenceImpl>>()
  readonly #connections = new Map<ContainerUuid, Set<ConnectionImpl>>()
  readonly #direct = new Map<string, RpcClient>()
  readonly #agentHost: AgentHost
  readonly #served = new Set<ServedAgent>()
  /** The guards of the encrypted agent endpoints this client serves. */
  readonly #guards = new Set<{ guard: EndpointGuard; server: RpcServer }>()
  readonly #address: string
  readonly #connectTimeoutMs: number
  readonly #createdAt: number
  #everConnected = false
  #closed = false

  constructor(address: string, options: NetworkClientOptions) {
    const endpoint = toEndpoint(address)
    if (typeof options === 'number') {
      throw new InvalidArgumentError(
        "createNetworkClient(address, options) takes an options object, got a number; huly.net's createNetworkClient(url, aliveTimeout) is in @huly/network/compat",
      )
    }
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('options must be an object')
    }
    this.#options = options
    this.#address = address
    this.#connectTimeoutMs = options.connectTimeoutMs === undefined
      ? DEFAULT_CONNECT_TIMEOUT_MS
      : requirePositive(options.connectTimeoutMs, 'connectTimeoutMs')
    this.clientId = requireName(options.clientId ?? crypto.randomUUID(), 'clientId') as ClientUuid
    this.timeouts = resolveTimeouts(options.timeouts)
    this.#ownsClock = options.clock === undefined
    this.clock = options.clock ?? new TickManagerImpl(20)
    if (this.#ownsClock) this.clock.start()
    this.#createdAt = this.clock.now()
    this.#agentHost = new AgentHost(
      (uuid, clientId, body) => this.rpc.event(EventTopic.container, body, { uuid, clientId }),
      this.clock,
    )
    this.rpc = new RpcClient(endpoint, {
      clock: this.clock,
      clientId: this.clientId,
      credentials: options.credentials,
      socket: options.socket,
      transport: options.transport,
      aliveTimeoutMs: this.timeouts.aliveTimeout * 1000,
      pingIntervalMs: this.timeouts.pingInterval * 1000,
      requestTimeoutMs: this.timeouts.requestTimeout * 1000,
      handler: (request) => this.#agentHost.handle(request),
      onEvent: (topic, meta, body) => this.#event(topic, meta, body, undefined),
      onConnect: (first) => {
        this.#everConnected = true
        if (!first) {
          ClientMetrics.get()?.reconnect()
          this.#recover()
        }
        this.#notifyConnection(true)
      },
      onBusy: (direction) => {
        if (direction === 'received') ClientMetrics.get()?.busy()
      },
      onDisconnect: (reason) => this.#notifyConnection(false, reason),
    })
  }

  #notifyConnection(connected: boolean, reason?: string): void {
    try {
      this.#options.onConnectionChange?.(connected, reason)
    } catch (error) {
      logger.error('onConnectionChange failed: {error}', { error })
    }
  }

  /** Before the first connection, waits for it at most the connect timeout. */
  async #reachable(): Promise<void> {
    try {
      await this.rpc.waitConnection(this.#connectTimeoutMs)
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error
      const since = ((this.clock.now() - this.#createdAt) / 1000).toFixed(1)
      throw new NotConnectedError(
        `cannot reach the coordinator at ${this.#address} within ${this.#connectTimeoutMs} ms (trying for ${since} s)`,
      )
    }
  }

  async call<T>(
    operation: string,
    params: unknown = null,
    options: RequestOptions = {},
  ): Promise<T> {
    if (!this.#everConnected) await this.#reachable()
    const body = encode(params)
    if (!tracingEnabled()) return decode(await this.rpc.request(operation, body, options)) as T
    const attributes = {
      'rpc.system': 'huly-network',
      'rpc.method': operation,
      'huly.client.id': this.clientId,
    }
    const reply = await withRequestSpan(
      TracerName.client,
      operation,
      SpanKind.CLIENT,
      undefined,
      attributes,
      (trace) => this.rpc.request(operation, body, { ...options, trace }),
    )
    return decode(reply) as T
  }

  async register(agent: AgentImpl): Promise<RegisterResult> {
    if (!(agent instanceof AgentImpl)) throw new InvalidArgumentError('register needs an AgentImpl')
    this.#agentHost.add(agent)
    return await this.call<RegisterResult>(NetworkOperation.register, {
      registration: agent.registration(),
    })
  }

  /** Registers `agent`, trying again (with a warning) while the coordinator is unreachable. */
  async #registerUntilReached(agent: AgentImpl): Promise<void> {
    for (;;) {
      try {
        await this.register(agent)
        return
      } catch (error) {
        if (!(error instanceof NotConnectedError) || this.#closed) throw error
        logger.warn('agent {agentId} is not registered: {message}; trying again', {
          agentId: agent.uuid,
          message: error.message,
        })
      }
    }
  }

  async serveAgent(
    endpoint: string,
    factories: Record<string, ContainerFactory>,
    options: ServeAgentOptions = {},
  ): Promise<ServedAgent> {
    const agentId = (options.agentId ?? crypto.randomUUID()) as AgentUuid
    let table: ConnectionTable | undefined
    const keys = this.#keyPair()
    const guard = keys &&
      new EndpointGuard((publicKey) =>
        this.call<PeerGrant | null>(NetworkOperation.identify, { publicKey })
      )
    const server = new RpcServer({
      clock: this.clock,
      handler: (request) => handleEndpointRequest(table!, request, guard),
      serverId: agentId,
      transport: options.transport ?? this.#options.transport,
      aliveTimeoutMs: this.timeouts.aliveTimeout * 1000,
      checkIntervalMs: this.timeouts.pingInterval * 1000,
      onSessionClosed: (session) => table?.clientGone(session.peerId as ClientUuid),
      ...(guard && {
        socket: {
          curve: { secretKey: keys!.secretKey },
          zapHandler: guard.zap,
          readUserId: true,
        },
        authenticate: guard.authenticate,
        peerIdOf: guard.peerIdOf,
      }),
    })
    try {
      const bound = server.listen(toEndpoint(endpoint))
      const agent = new AgentImpl(agentId, factories, {
        endpoint: options.advertise ?? bound,
        publicKey: keys?.publicKey,
      })
      table = new ConnectionTable(
        agent,
        (uuid, clientId, body) =>
          server.session(clientId)?.event(EventTopic.container, body, { uuid }),
      )
      for (const { options: start, container } of options.stateless ?? []) {
        agent.declareStateless(start, container)
      }
      await this.#registerUntilReached(agent)
      const served: ServedAgent = {
        agent,
        endpoint: agent.endpoint!,
        drain: async (drainOptions) => {
          const result = await this.drain(agentId, drainOptions)
          // Clients learn the new places by an event: until it lands, requests that still
          // come here are refused (they did not run) and go through the coordinator.
          await new Promise<void>((resolve) => this.clock.schedule(resolve, DRAIN_LINGER_MS))
          return result
        },
        close: async () => {
          this.#served.delete(served)
          for (const entry of this.#guards) if (entry.server === server) this.#guards.delete(entry)
          this.#agentHost.remove(agent.uuid)
          // Terminated before unregistered: the coordinator may start a container
          // elsewhere only once this copy is gone (single activation).
          await agent.close()
          if (this.rpc.connected) {
            await this.rpc.request(NetworkOperation.unregister, encode({ agentId }), {
              timeoutMs: 1000,
            }).catch((error) =>
              logger.info('unregistering agent {agentId} failed: {error}', { agentId, error })
            )
          }
          await server.close()
        },
        [Symbol.asyncDispose]: () => served.close(),
      }
      this.#served.add(served)
      if (guard !== undefined) this.#guards.add({ guard, server })
      return served
    } catch (error) {
      await server.close()
      throw error
    }
  }

  async drain(agentId: string, options: DrainOptions = {}): Promise<DrainResult> {
    requireName(agentId, 'agentId')
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('drain options must be an object')
    }
    const deadlineMs = options.deadlineMs ?? DEFAULT_DRAIN_DEADLINE_MS
    requirePositive(deadlineMs, 'deadlineMs')
    logger.info('agent {agentId} drains (deadline {deadlineMs} ms)', { agentId, deadlineMs })
    // The coordinator answers by the deadline; the margin covers the last move's start.
    const result = await this.call<DrainResult>(
      NetworkOperation.drain,
      { agentId, deadlineMs },
      { timeoutMs: deadlineMs + DRAIN_ANSWER_MARGIN_MS },
    )
    if (result.complete) {
      logger.info('agent {agentId} drained: {moved} moved in {durationMs} ms', { ...result })
    } else {
      logger.warn(
        'agent {agentId} drain ended after {durationMs} ms: {moved} moved, {left} left, {failed} failed: {reason}',
        { ...result },
      )
    }
    return result
  }

  agents(): Promise<AgentRecord[]> {
    return this.call(NetworkOperation.agents)
  }

  kinds(): Promise<ContainerKind[]> {
    return this.call(NetworkOperation.kinds)
  }

  list(kind?: string): Promise<ContainerRecord[]> {
    return this.call(NetworkOperation.list, kind === undefined ? {} : { kind })
  }

  async get(kind: string, options: ContainerQuery = {}): Promise<ContainerReference> {
    this.#assertOpen()
    requireName(kind, 'kind')
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('get options must be an object')
    }
    const record = await this.call<ContainerRecord>(NetworkOperation.get, { kind, options })
    const reference = new ReferenceImpl(this, kind as ContainerKind, options as GetOptions, record)
    let same = this.#references.get(reference.uuid)
    if (same === undefined) this.#references.set(reference.uuid, same = new Set())
    same.add(reference)
    return reference
  }

  async request(
    target: string,
    operation: string,
    data?: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    requireName(target, 'target')
    return await this.routedRequest(undefined, target as ContainerUuid, operation, data, options)
  }

  onUpdate(listener: NetworkEventListener): () => void {
    if (typeof listener !== 'function') {
      throw new InvalidArgumentError('listener must be a function')
    }
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  waitConnection(timeoutMs?: number): Promise<void> {
    return this.rpc.waitConnection(timeoutMs)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    const quick = { timeoutMs: 1000 }
    for (const served of [...this.#served]) {
      await served.close().catch((error) =>
        logger.warn('closing agent {agentId} failed: {error}', {
          agentId: served.agent.uuid,
          error,
        })
      )
    }
    if (this.rpc.connected) {
      await Promise.allSettled(
        this.#allReferences().map((ref) =>
          this.rpc.request(NetworkOperation.release, encode({ uuid: ref.uuid }), quick)
        ),
      )
    }
    this.#closed = true
    this.#references.clear()
    this.#connections.clear()
    await Promise.all([...this.#direct.values()].map((client) => client.close()))
    await this.rpc.close()
    if (this.#ownsClock) this.clock.stop()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  // --- used by references and connections ---

  forget(reference: ReferenceImpl): void {
    const same = this.#references.get(reference.uuid)
    same?.delete(reference)
    if (same?.size === 0) this.#references.delete(reference.uuid)
  }

  /** This client's CURVE key pair, when it has one. */
  #keyPair(): { publicKey: string; secretKey: string } | undefined {
    const curve = this.#options.socket?.curve as CurveClientOptions | undefined
    if (curve?.publicKey === undefined || curve.secretKey === undefined) return undefined
    return { publicKey: curve.publicKey, secretKey: curve.secretKey }
  }

  /**
   * The transport a connection to `endpoint` uses: a direct link, or the network.
   * A client with keys links directly only to endpoints that encrypt (their public
   * key is in the record), one without keys only to those that do not.
   */
  link(endpoint: EndpointRef): string | undefined {
    if (endpoint.kind === 'network') return undefined
    const curve = this.#options.socket?.curve as CurveClientOptions | undefined
    if ((curve === undefined) !== (endpoint.publicKey === undefined)) return undefined
    const address = endpoint.address
    if (!this.#direct.has(address)) {
      const link: RpcClient = new RpcClient(address, {
        clock: this.clock,
        clientId: this.clientId,
        credentials: this.#options.credentials,
        socket: curve === undefined
          ? this.#options.socket
          : { ...this.#options.socket, curve: { ...curve, serverKey: endpoint.publicKey! } },
        transport: this.#options.transport,
        aliveTimeoutMs: this.timeouts.aliveTimeout * 1000,
        pingIntervalMs: this.timeouts.pingInterval * 1000,
        requestTimeoutMs: this.timeouts.requestTimeout * 1000,
        onEvent: (topic, meta, body) => this.#event(topic, meta, body, address),
        onConnect: (first) => {
          if (!first) this.#reconnectConnections(address)
        },
      })
      this.#direct.set(address, link)
    }
    return address
  }

  async routedRequest(
    via: string | undefined,
    target: ContainerUuid,
    operation: string,
    data: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    requireName(operation, 'operation')
    const meta: RouteMeta = { target, operation }
    const link = via === undefined ? undefined : this.#direct.get(via)
    if (link === undefined && !this.#everConnected) await this.#reachable()
    const body = encode(data)
    const rpc = link ?? this.rpc
    const rpcOperation = link === undefined ? NetworkOperation.request : ContainerOperation.request
    const metrics = ClientMetrics.get()
    if (metrics === undefined && !tracingEnabled()) {
      return decode(await rpc.request(rpcOperation, body, { ...options, meta }))
    }
    const started = performance.now()
    try {
      const reply = !tracingEnabled()
        ? await rpc.request(rpcOperation, body, { ...options, meta })
        : await withRequestSpan(
          TracerName.client,
          rpcOperation,
          SpanKind.CLIENT,
          options.trace,
          {
            'rpc.system': 'huly-network',
            'rpc.method': rpcOperation,
            'huly.client.id': this.clientId,
            'huly.container.uuid': target,
            'huly.container.operation': operation,
          },
          (trace) => rpc.request(rpcOperation, body, { ...options, meta, trace }),
        )
      metrics?.request(rpcOperation, (performance.now() - started) / 1000, false)
      return decode(reply)
    } catch (error) {
      metrics?.request(rpcOperation, (performance.now() - started) / 1000, true)
      throw error
    }
  }

  /**
   * Adds a connection at its current place (`connection.via`); the container is
   * told once per client and place, however many connections share them.
   */
  async attachConnection(connection: ConnectionImpl): Promise<void> {
    const { containerId: uuid, via } = connection
    let set = this.#connections.get(uuid)
    if (set === undefined) this.#connections.set(uuid, set = new Set())
    const shared = [...set].some((other) => other.via === via)
    set.add(connection)
    if (shared) return
    try {
      await this.#connectOn(via, uuid, true)
    } catch (error) {
      set.delete(connection)
      this.#closeUnusedLink(via)
      throw error
    }
  }

  /** Removes a connection from the place `via`; the last one there disconnects. */
  async detachConnection(connection: ConnectionImpl, via: string | undefined): Promise<void> {
    const uuid = connection.containerId
    const set = this.#connections.get(uuid)
    if (set === undefined || !set.delete(connection)) return
    if (set.size === 0) this.#connections.delete(uuid)
    if ([...set].some((other) => other.via === via)) return
    await this.#connectOn(via, uuid, false, 1000).catch((error) =>
      logger.debug('disconnect from {uuid} failed: {error}', { uuid, error })
    )
    this.#closeUnusedLink(via)
  }

  /**
   * The container `uuid` moved, or was placed again (a new instance, perhaps at the
   * same place): every connection to it goes to its new place at once. Each place it
   * was connected at is told of the disconnect and the new place of the connect, once
   * for all the connections; on one link the two are sent, and run, in that order, so
   * a container back at the same place ends connected. A direct link still retrying the
   * new place (its agent restarted there) dials at once, so the connect reaches the new
   * agent now. Once the container took the connect, `onMoved` handlers are told.
   */
  async follow(uuid: ContainerUuid, record: ContainerRecord): Promise<void> {
    const set = this.#connections.get(uuid)
    if (set === undefined || set.size === 0) return
    const connections = [...set]
    const previous = new Set(connections.map((connection) => connection.via))
    const via = this.link(record.endpoint)
    for (const connection of connections) connection.via = via
    for (const old of previous) {
      this.#connectOn(old, uuid, false, 1000)
        .catch((error) => logger.debug('disconnect from {uuid} failed: {error}', { uuid, error }))
        .finally(() => this.#closeUnusedLink(old))
    }
    const connected = this.#connectOn(via, uuid, true)
    if (via !== undefined) this.#direct.get(via)?.redial()
    try {
      await connected
    } catch (error) {
      // The connections stay: the next placement, or reconnect of the link, tries again.
      logger.warn('following {uuid} failed: {error}', { uuid, error })
      return
    }
    for (const connection of connections) connection.reopened(record)
  }

  /** A direct link nobody uses any more is closed, so a dead agent is not retried forever. */
  #closeUnusedLink(via: string | undefined): void {
    if (via === undefined) return
    for (const set of this.#connections.values()) {
      for (const connection of set) if (connection.via === via) return
    }
    const link = this.#direct.get(via)
    this.#direct.delete(via)
    void link?.close()
  }

  #connectOn(
    via: string | undefined,
    uuid: ContainerUuid,
    connect: boolean,
    timeoutMs?: number,
  ): Promise<unknown> {
    const link = via === undefined ? undefined : this.#direct.get(via)
    const body = encode({ uuid })
    if (link === undefined) {
      const operation = connect ? NetworkOperation.connect : NetworkOperation.disconnect
      return this.rpc.request(operation, body, { timeoutMs })
    }
    const operation = connect ? ContainerOperation.connect : ContainerOperation.disconnect
    return link.request(operation, body, { timeoutMs })
  }

  #event(topic: string, meta: unknown, body: Uint8Array, via: string | undefined): void {
    if (topic === EventTopic.network) return this.#networkEvent(decode(body) as NetworkEvent)
    if (topic === EventTopic.revoked && via === undefined) {
      return this.#revoked((decode(body) as RevokedParams | undefined)?.publicKeys)
    }
    if (topic !== EventTopic.container) return
    const uuid = (meta as { uuid?: ContainerUuid } | undefined)?.uuid
    const states = uuid === undefined ? undefined : this.#connections.get(uuid)
    if (states === undefined) return
    const data = decode(body)
    for (const connection of states) if (connection.via === via) connection.deliver(data)
  }

  /** The coordinator revoked keys: the endpoints this client serves drop their sessions. */
  #revoked(publicKeys: unknown): void {
    if (!Array.isArray(publicKeys)) return
    for (const { guard, server } of this.#guards) {
      guard.revoke(publicKeys)
      endSessionsOf(server, publicKeys)
    }
  }

  /** Back from a lost coordinator link: the keys connected to endpoints are checked again. */
  async #recheckEndpointKeys(): Promise<void> {
    for (const { guard, server } of this.#guards) {
      const keys = server.sessions().map((session) => session.userId)
      endSessionsOf(server, await guard.recheck(keys))
    }
  }

  #networkEvent(event: NetworkEvent): void {
    for (const change of event.containers) {
      for (const reference of this.#references.get(change.container.uuid) ?? []) {
        reference.observe(change.type, change.container)
      }
    }
    if (event.agents.some((change) => change.type !== 'removed')) {
      for (const reference of this.#allReferences()) reference.revive()
    }
    for (const listener of this.#listeners) {
      try {
        Promise.resolve(listener(event)).catch((error) =>
          logger.error('an update listener failed: {error}', { error })
        )
      } catch (error) {
        logger.error('an update listener failed: {error}', { error })
      }
    }
  }

  /** After the coordinator came back: register agents, re-acquire references, reconnect. */
  #allReferences(): ReferenceImpl[] {
    return [...this.#references.values()].flatMap((same) => [...same])
  }

  #recover(): void {
    void (async () => {
      for (const agent of this.#agentHost.agents()) {
        await this.call(NetworkOperation.register, { registration: agent.registration() })
          .catch((error) =>
            logger.error('re-registering {agentId} failed: {error}', { agentId: agent.uuid, error })
          )
      }
      await Promise.allSettled(this.#allReferences().map((reference) => reference.reacquire()))
      await this.#reconnectConnections(undefined)
      await this.#recheckEndpointKeys().catch((error) =>
        logger.warn('checking the keys connected to agent endpoints failed: {error}', { error })
      )
    })()
  }

  async #reconnectConnections(via: string | undefined): Promise<void> {
    for (const [uuid, connections] of this.#connections) {
      if ([...connections].some((connection) => connection.via === via)) {
        await this.#connectOn(via, uuid, true).catch((error) => {
          // A container that is gone is got again from its removal event.
          if (error instanceof ContainerNotFoundError) {
            logger.info('{uuid} is gone from its agent; it is got again', { uuid })
          } else logger.warn('reconnecting to {uuid} failed: {error}', { uuid, error })
        })
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('the network client is closed')
  }
}

/** Ends the sessions of `publicKeys` on an agent endpoint. */
function endSessionsOf(server: RpcServer, publicKeys: readonly string[]): void {
  for (const session of server.sessions()) {
    if (publicKeys.includes(session.userId)) {
      server.disconnect(session.peerId, 'the key was revoked')
    }
  }
}

class ReferenceImpl implements ContainerReference {
  #record: ContainerRecord
  #stale = false
  #closed = false
  #reacquiring: Promise<void> | undefined
  readonly #connections = new Set<ConnectionImpl>()

  constructor(
    readonly client: NetworkClientImpl,
    readonly kind: ContainerKind,
    readonly options: GetOptions,
    record: ContainerRecord,
  ) {
    this.#record = record
  }

  get uuid(): ContainerUuid {
    return this.#record.uuid
  }

  get endpoint(): EndpointRef {
    return this.#record.endpoint
  }

  get record(): ContainerRecord {
    return { ...this.#record }
  }

  /** The container was removed: the next use re-acquires it. */
  get stale(): boolean {
    return this.#stale
  }

  async request(operation: string, data?: unknown, options?: RequestOptions): Promise<unknown> {
    if (this.#closed) throw new ClosedError(`the reference to "${this.uuid}" is closed`)
    if (this.#stale) await this.reacquire()
    return await this.requestThroughNetwork(operation, data, options)
  }

  /** A routed request; one that did not run because the container was gone is sent again. */
  async requestThroughNetwork(
    operation: string,
    data: unknown,
    options?: RequestOptions,
  ): Promise<unknown> {
    try {
      return await this.client.routedRequest(undefined, this.uuid, operation, data, options)
    } catch (error) {
      if (!notRunHere(error)) throw error
      if (error instanceof ContainerNotFoundError) await this.reacquire()
      return await this.client.routedRequest(undefined, this.uuid, operation, data, options)
    }
  }

  async connect(options: ConnectOptions = {}): Promise<ContainerConnection> {
    if (this.#closed) throw new ClosedError(`the reference to "${this.uuid}" is closed`)
    if (options.on !== undefined && typeof options.on !== 'function') {
      throw new InvalidArgumentError('on must be a function')
    }
    if (options.onMoved !== undefined && typeof options.onMoved !== 'function') {
      throw new InvalidArgumentError('onMoved must be a function')
    }
    if (this.#stale) await this.reacquire()
    const connection = new ConnectionImpl(this, options.onMoved)
    connection.on = options.on
    await connection.open()
    this.#connections.add(connection)
    return connection
  }

  cast<T extends object>(interfaceName?: string): Remote<T> {
    return castRequests<T>((operation, data) => this.request(operation, data), interfaceName)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.client.forget(this)
    for (const connection of [...this.#connections]) await connection.close()
    await this.client.call(NetworkOperation.release, { uuid: this.uuid })
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  forgetConnection(connection: ConnectionImpl): void {
    this.#connections.delete(connection)
  }

  /** A network event about this container. */
  observe(type: string, record: ContainerRecord): void {
    if (type === 'removed') {
      this.#stale = true
      this.revive()
      return
    }
    const moved = record.agentId !== this.#record.agentId ||
      JSON.stringify(record.endpoint) !== JSON.stringify(this.#record.endpoint)
    // Back after a removal it is a new instance, even at the same place.
    const revived = this.#stale
    this.#record = record
    this.#stale = false
    if ((moved || revived) && this.#connections.size > 0) void this.client.follow(this.uuid, record)
  }

  /**
   * A removed container with open connections is got again at once (a request
   * would do it, but a connection only listening never asks), and again whenever an
   * agent registers while it cannot be placed.
   */
  revive(): void {
    if (this.#closed || !this.#stale || this.#connections.size === 0) return
    this.reacquire().catch((error) =>
      logger.info(
        '{uuid} is not placed again yet ({message}); trying again when an agent registers',
        {
          uuid: this.uuid,
          message: error instanceof Error ? error.message : String(error),
        },
      )
    )
  }

  /** Gets the container again with the same uuid and options (it died, or the network restarted). */
  reacquire(): Promise<void> {
    this.#reacquiring ??= (async () => {
      try {
        const options = { ...this.options, uuid: this.uuid }
        const record = await this.client.call<ContainerRecord>(NetworkOperation.get, {
          kind: this.kind,
          options,
        })
        this.observe('added', record)
      } finally {
        this.#reacquiring = undefined
      }
    })()
    return this.#reacquiring
  }
}

class ConnectionImpl implements ContainerConnection {
  /** Where requests and events go now: a direct link address, or the network. */
  via: string | undefined
  #closed = false
  #on: ContainerEventHandler | undefined
  /** Events that came before a handler was set, in order. */
  #pending: unknown[] = []
  #dropped = 0

  constructor(readonly reference: ReferenceImpl, readonly onMoved?: ConnectOptions['onMoved']) {}

  get on(): ContainerEventHandler | undefined {
    return this.#on
  }

  set on(handler: ContainerEventHandler | undefined) {
    this.#on = handler
    while (this.#on !== undefined && this.#pending.length > 0) {
      this.#handle(this.#on, this.#pending.shift())
    }
  }

  get droppedEvents(): number {
    return this.#dropped
  }

  get containerId(): ContainerUuid {
    return this.reference.uuid
  }

  async open(): Promise<void> {
    this.via = this.reference.client.link(this.reference.endpoint)
    await this.reference.client.attachConnection(this)
  }

  /** Opened again at the container's new place (`NetworkClientImpl.follow`). */
  reopened(record: ContainerRecord): void {
    if (this.#closed || this.onMoved === undefined) return
    try {
      this.onMoved(record)
    } catch (error) {
      logger.error('a connection onMoved handler failed: {error}', { error })
    }
  }

  deliver(data: unknown): void {
    const handler = this.#on
    if (handler !== undefined) return this.#handle(handler, data)
    if (this.#pending.length < PENDING_EVENT_LIMIT) {
      this.#pending.push(data)
      return
    }
    if (this.#dropped++ === 0) {
      logger.warn(
        'connection to {uuid} has no event handler and {limit} events waiting: later ones are dropped and counted in droppedEvents',
        { uuid: this.containerId, limit: PENDING_EVENT_LIMIT },
      )
    }
  }

  #handle(handler: ContainerEventHandler, data: unknown): void {
    try {
      const result = handler(data)
      // Only a handler that returned a promise costs one; most return nothing.
      if (result instanceof Promise) {
        result.catch((error) =>
          logger.error('a connection event handler failed: {error}', { error })
        )
      }
    } catch (error) {
      logger.error('a connection event handler failed: {error}', { error })
    }
  }

  async request(operation: string, data?: unknown, options?: RequestOptions): Promise<unknown> {
    if (this.#closed) throw new ClosedError(`the connection to "${this.containerId}" is closed`)
    if (this.reference.stale) await this.reference.reacquire()
    const via = this.via
    if (via === undefined) {
      return await this.reference.requestThroughNetwork(operation, data, options)
    }
    try {
      return await this.reference.client.routedRequest(
        via,
        this.containerId,
        operation,
        data,
        options,
      )
    } catch (error) {
      // It did not run at the old place: the coordinator holds it until the move ends.
      if (!notRunHere(error)) throw error
      return await this.reference.requestThroughNetwork(operation, data, options)
    }
  }

  cast<T extends object>(interfaceName?: string): Remote<T> {
    return castRequests<T>((operation, data) => this.request(operation, data), interfaceName)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#pending = []
    this.reference.forgetConnection(this)
    await this.reference.client.detachConnection(this, this.via)
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}
