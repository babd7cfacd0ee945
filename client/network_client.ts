/**
 * The network client: gets containers, talks to them, serves agents.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import { type TickManager, TickManagerImpl } from '../common/clock.ts'
import { ClosedError, InvalidArgumentError, NotConnectedError } from '../common/errors.ts'
import { requirePositive } from '../common/validate.ts'
import { AgentImpl } from '../core/agent.ts'
import {
  ContainerOperation,
  EventTopic,
  NetworkOperation,
  type RouteMeta,
} from '../core/protocol.ts'
import { resolveTimeouts, type Timeouts } from '../core/timeouts.ts'
import type {
  AgentRecord,
  ClientUuid,
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
} from '../core/types.ts'
import type { RpcClient, RpcClientOptions } from '../rpc/client.ts'
import { decode, encode } from '../rpc/codec.ts'
import type { RequestOptions } from '../rpc/session.ts'
import type { CurveClientOptions } from '../rpc/zmq/types.ts'
import { CoordinatorLink } from './_coordinator_link.ts'
import { DirectLinks } from './_direct_links.ts'
import { type ClientInternals, exchange, requireName, rpcTimings } from './_internals.ts'
import { AgentHost } from './agent_host.ts'
import { requireRevoked } from '../core/operations.ts'
import type { ConnectionImpl } from './connection.ts'
import { type ContainerReference, ReferenceImpl, ReferenceTable } from './reference.ts'
import {
  drainAgent,
  type ServeAgentOptions,
  type ServedAgent,
  ServedAgents,
} from './served_agent.ts'

const logger = getLogger(['huly-network', 'client'])

/** How long a call waits for the first connection to the coordinator. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000

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
 * const options: NetworkClientOptions = { timeouts: { requestTimeoutMs: 10_000 } }
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

class NetworkClientImpl implements NetworkClient, ClientInternals {
  readonly clientId: ClientUuid
  readonly #coordinator: CoordinatorLink
  readonly #clock: TickManager
  readonly #ownsClock: boolean
  readonly #options: NetworkClientOptions
  readonly #listeners = new Set<NetworkEventListener>()
  readonly #references = new ReferenceTable()
  readonly #links: DirectLinks
  readonly #agentHost: AgentHost
  readonly #served: ServedAgents
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
    const connectTimeoutMs = options.connectTimeoutMs === undefined
      ? DEFAULT_CONNECT_TIMEOUT_MS
      : requirePositive(options.connectTimeoutMs, 'connectTimeoutMs')
    this.clientId = requireName(options.clientId ?? crypto.randomUUID(), 'clientId') as ClientUuid
    const timings = rpcTimings(resolveTimeouts(options.timeouts))
    this.#ownsClock = options.clock === undefined
    this.#clock = options.clock ?? new TickManagerImpl(20)
    if (this.#ownsClock) this.#clock.start()
    this.#agentHost = new AgentHost(
      (uuid, clientId, body) => this.rpc.event(EventTopic.container, body, { uuid, clientId }),
      this.#clock,
    )
    // What the link to the coordinator and every direct link share.
    const base: RpcClientOptions = {
      clock: this.#clock,
      clientId: this.clientId,
      credentials: options.credentials,
      socket: options.socket,
      transport: options.transport,
      ...timings,
    }
    this.#links = new DirectLinks({
      base,
      onEvent: (topic, meta, body, address) => this.#event(topic, meta, body, address),
      viaNetwork: (operation, params, timeoutMs) =>
        this.#coordinator.call(operation, params, { timeoutMs, bookkeeping: true }),
    })
    this.#coordinator = new CoordinatorLink({
      address,
      endpoint,
      base,
      connectTimeoutMs,
      handler: (request) => this.#agentHost.handle(request),
      onEvent: (topic, meta, body) => this.#event(topic, meta, body, undefined),
      onReconnect: () => this.#recover(),
      onConnectionChange: options.onConnectionChange,
    })
    this.#served = new ServedAgents({
      clock: this.#clock,
      timings,
      transport: options.transport,
      keyPair: () => this.#keyPair(),
      coordinator: this.#coordinator,
      register: (agent) => this.#registerUntilReached(agent),
      remove: (agentId) => this.#agentHost.remove(agentId),
    })
  }

  /** The rpc client of the link to the coordinator. */
  get rpc(): RpcClient {
    return this.#coordinator.rpc
  }

  async register(agent: AgentImpl): Promise<RegisterResult> {
    if (!(agent instanceof AgentImpl)) throw new InvalidArgumentError('register needs an AgentImpl')
    this.#agentHost.add(agent)
    return await this.#coordinator.call(NetworkOperation.register, {
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

  serveAgent(
    endpoint: string,
    factories: Record<string, ContainerFactory>,
    options: ServeAgentOptions = {},
  ): Promise<ServedAgent> {
    return this.#served.serve(toEndpoint(endpoint), factories, options)
  }

  drain(agentId: string, options: DrainOptions = {}): Promise<DrainResult> {
    return drainAgent(this.#coordinator, agentId, options)
  }

  agents(): Promise<AgentRecord[]> {
    return this.#coordinator.call(NetworkOperation.agents, {})
  }

  kinds(): Promise<ContainerKind[]> {
    return this.#coordinator.call(NetworkOperation.kinds, {})
  }

  list(kind?: string): Promise<ContainerRecord[]> {
    const params = kind === undefined ? {} : { kind: kind as ContainerKind }
    return this.#coordinator.call(NetworkOperation.list, params)
  }

  async get(kind: string, options: ContainerQuery = {}): Promise<ContainerReference> {
    this.#assertOpen()
    requireName(kind, 'kind')
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('get options must be an object')
    }
    const record = await this.acquire(kind as ContainerKind, options as GetOptions)
    const reference = new ReferenceImpl(this, kind as ContainerKind, options as GetOptions, record)
    this.#references.add(reference)
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
    await this.#served.close()
    if (this.rpc.connected) {
      const quick = { timeoutMs: 1000, bookkeeping: true }
      await Promise.allSettled(
        this.#references.all().map((ref) =>
          this.#coordinator.call(NetworkOperation.release, { uuid: ref.uuid }, quick)
        ),
      )
    }
    this.#closed = true
    this.#references.clear()
    await this.#links.close()
    await this.rpc.close()
    if (this.#ownsClock) this.#clock.stop()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  // --- ClientInternals: only references and connections call these. The class is not
  // exported and they see the client as a ClientInternals, so no exported type shows them.

  acquire(kind: ContainerKind, options: GetOptions): Promise<ContainerRecord> {
    return this.#coordinator.call(NetworkOperation.get, { kind, options })
  }

  async release(uuid: ContainerUuid): Promise<void> {
    await this.#coordinator.call(NetworkOperation.release, { uuid })
  }

  forget(reference: ReferenceImpl): void {
    this.#references.forget(reference)
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
    const link = this.#links.get(via)
    if (link === undefined) {
      return await this.#coordinator.request(data, { ...options, meta })
    }
    const reply = await exchange({
      rpc: link,
      operation: ContainerOperation.request,
      body: encode(data),
      options: { ...options, meta },
      clientId: this.clientId,
      meta,
      traced: true,
      counted: true,
    })
    return decode(reply)
  }

  link(endpoint: EndpointRef): string | undefined {
    return this.#links.link(endpoint)
  }

  attachConnection(connection: ConnectionImpl): Promise<void> {
    return this.#links.attach(connection)
  }

  detachConnection(connection: ConnectionImpl, via: string | undefined): Promise<void> {
    return this.#links.detach(connection, via)
  }

  follow(uuid: ContainerUuid, record: ContainerRecord): Promise<void> {
    return this.#links.follow(uuid, record)
  }

  // --- the client's own ---

  /** This client's CURVE key pair, when it has one. */
  #keyPair(): { publicKey: string; secretKey: string } | undefined {
    const curve = this.#options.socket?.curve as CurveClientOptions | undefined
    if (curve?.publicKey === undefined || curve.secretKey === undefined) return undefined
    return { publicKey: curve.publicKey, secretKey: curve.secretKey }
  }

  #event(topic: string, meta: unknown, body: Uint8Array, via: string | undefined): void {
    try {
      if (topic === EventTopic.network) return this.#networkEvent(decode(body) as NetworkEvent)
      if (topic === EventTopic.revoked && via === undefined) {
        return this.#served.revoked(requireRevoked(decode(body)).publicKeys)
      }
    } catch (error) {
      // A body that does not decode or check is dropped, never thrown into the socket.
      logger.warn('dropped a malformed {topic} event: {error}', { topic, error })
      return
    }
    if (topic !== EventTopic.container) return
    this.#links.deliver((meta as { uuid?: ContainerUuid } | undefined)?.uuid, via, body)
  }

  #networkEvent(event: NetworkEvent): void {
    this.#references.observe(event)
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
  #recover(): void {
    void (async () => {
      for (const agent of this.#agentHost.agents()) {
        const registration = agent.registration()
        await this.#coordinator.call(NetworkOperation.register, { registration }).catch((error) =>
          logger.error('re-registering {agentId} failed: {error}', { agentId: agent.uuid, error })
        )
      }
      await Promise.allSettled(this.#references.all().map((reference) => reference.reacquire()))
      await this.#links.reconnect(undefined)
      await this.#served.recheckKeys().catch((error) =>
        logger.warn('checking the keys connected to agent endpoints failed: {error}', { error })
      )
    })()
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('the network client is closed')
  }
}
