/**
 * The coordinator: a {@link NetworkImpl} behind an rpc server.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import { type Span, SpanKind } from '@opentelemetry/api'
import type { TickManager } from '../common/clock.ts'
import {
  audit,
  describeUse,
  mayRegister,
  mayUse,
  type PeerGrant,
  requireAccess,
  seesEverything,
} from '../security/access.ts'
import {
  AuthorizationError,
  ContainerMovingError,
  ContainerNotFoundError,
  InvalidArgumentError,
  LimitExceededError,
  ProtocolError,
  RateLimitError,
} from '../common/errors.ts'
import type { MetricsRegistry } from '../observability/metrics.ts'
import { requireListenOptions, requirePort } from '../common/validate.ts'
import type { NetworkImpl } from '../core/network.ts'
import {
  AgentOperation,
  type ContainerEventMeta,
  EventTopic,
  NetworkOperation,
  type RouteMeta,
} from '../core/protocol.ts'
import type {
  AgentRecord,
  AgentRegistration,
  AgentUuid,
  ClientUuid,
  ContainerKind,
  ContainerRecord,
  ContainerUuid,
  GetOptions,
  NetworkEvent,
  NetworkSnapshot,
} from '../core/types.ts'
import {
  endRequestSpan,
  startRequestSpan,
  traceparentOf,
  TracerName,
  tracingEnabled,
  withTraceparent,
} from '../observability/tracing.ts'
import { decode, encode } from '../rpc/codec.ts'
import { RpcServer, type RpcServerOptions } from '../rpc/server.ts'
import type { IncomingRequest, RpcSession } from '../rpc/session.ts'
import { AccessGuard } from './_guard.ts'
import { RateLimiter } from '../rpc/rate_limiter.ts'
import { CoordinatorMetrics } from './metrics.ts'
import { RemoteAgent } from './remote_agent.ts'

const logger = getLogger(['huly-network', 'server'])

/**
 * Options of a {@link NetworkServer}.
 *
 * @example
 * ```ts
 * import type { NetworkServerOptions } from '@huly/network/server'
 * const options: NetworkServerOptions = { host: '127.0.0.1', port: 3737 }
 * ```
 */
export interface NetworkServerOptions {
  /** Address to bind (127.0.0.1). */
  host?: string
  /** Port to bind (3737; 0 picks a free one). */
  port?: number
  /** Requests served at once per client; more are answered "busy" (1024). */
  maxInFlight?: number
  /** Options of the ROUTER socket (CURVE, ZAP, limits). */
  socket?: RpcServerOptions['socket']
  /**
   * The socket transport: `zmtp` (ZMTP on Deno's TCP, the default) or `libzmq`
   * (FFI); clients and agents on either transport can connect.
   */
  transport?: RpcServerOptions['transport']
  /** Checks each client's handshake; throwing refuses it. */
  authenticate?: RpcServerOptions['authenticate']
  /**
   * CURVE encryption and the allow-list: only the listed public keys may connect,
   * and each operation is checked against the grant of the caller's key.
   */
  security?: NetworkSecurity
  /**
   * Requests each peer (each key; each connection without keys) may send per
   * second on average, and at once; more fail with `RateLimitError`. Unlimited
   * when absent.
   */
  rateLimit?: { perSecond: number; burst?: number }
  /** The registry the coordinator's metrics go into (a new one when absent). */
  metrics?: MetricsRegistry
  /** Limits against hostile peers (see `docs/limits.md`); each has a default. */
  limits?: RpcServerOptions['limits']
}

/**
 * The coordinator's keys and the peers it accepts.
 *
 * @example
 * ```ts
 * import { curveKeyPair } from '@huly/network/rpc'
 * import type { NetworkSecurity } from '@huly/network/server'
 * const server = curveKeyPair()
 * const agent = curveKeyPair()
 * const security: NetworkSecurity = {
 *   secretKey: server.secretKey,
 *   peers: [{ name: 'agent-1', publicKey: agent.publicKey, role: 'agent', kinds: ['echo'] }],
 * }
 * ```
 */
export interface NetworkSecurity {
  /** The coordinator's CURVE secret key. */
  secretKey: string
  /** Every peer it accepts, with its rights. */
  peers: PeerGrant[]
}

/**
 * An agent in a {@link CoordinatorState}: its record, the client serving it, and
 * the requests forwarded to it.
 *
 * @example
 * ```ts
 * import type { AgentStatus } from '@huly/network/server'
 * declare const agent: AgentStatus
 * console.log(agent.agentId, agent.kinds, agent.containers, agent.requests)
 * ```
 */
export interface AgentStatus extends AgentRecord {
  /** The client connection that serves it. */
  clientId?: ClientUuid
  /** Requests forwarded to it so far. */
  requests: number
  /** Forwarded requests not answered yet. */
  inFlight: number
}

/**
 * What the coordinator knows now, as `/api/state` shows it.
 *
 * @example
 * ```ts
 * import type { CoordinatorState } from '@huly/network/server'
 * declare const state: CoordinatorState
 * console.log(state.endpoint, state.agents.length, state.containers.length)
 * ```
 */
export interface CoordinatorState extends Omit<NetworkSnapshot, 'agents'> {
  /** The rpc endpoint. */
  endpoint: string
  /** When this state was taken (ms since the epoch). */
  at: number
  /** Agents, with their load. */
  agents: AgentStatus[]
  /** Client ids with an open rpc session now. */
  sessions: ClientUuid[]
}

/**
 * The network coordinator over ZeroMQ: clients get, release and request
 * containers; agents register and serve them. Request bodies are forwarded to
 * agents without being decoded.
 *
 * @example
 * ```ts ignore
 * import { NetworkImpl, TickManagerImpl } from '@huly/network/core'
 * import { NetworkServer } from '@huly/network/server'
 * const clock = new TickManagerImpl(10)
 * clock.start()
 * const network = new NetworkImpl(clock)
 * const server = new NetworkServer(network, clock, { port: 0 })
 * console.log('listening on', server.endpoint)
 * await server.close()
 * clock.stop()
 * ```
 */
export class NetworkServer {
  /** The endpoint the server listens on, such as `tcp://127.0.0.1:3737`. */
  readonly endpoint: string
  /** The coordinator's metrics (rendered by `/metrics`). */
  readonly metrics: CoordinatorMetrics
  readonly #network: NetworkImpl
  readonly #rpc: RpcServer
  /** Which client connection speaks for each agent. */
  readonly #agentOwners = new Map<AgentUuid, { clientId: ClientUuid; agent: RemoteAgent }>()
  /** Containers each client is connected to through the network. */
  readonly #connections = new Map<ClientUuid, Set<ContainerUuid>>()
  readonly #unsubscribe: () => void
  readonly #stopObservingMoves: () => void
  readonly #unregisterPing: () => void
  /** The allow-list, when keys are configured; without it every peer may do everything. */
  readonly #guard: AccessGuard | undefined
  readonly #limiter: RateLimiter | undefined
  readonly #clock: TickManager
  #closed = false
  /** Shutting down for a restart: new requests are not run. */
  #stopping = false
  /** Requests being served now (not those that came while stopping). */
  #active = 0

  /** Starts serving `network` on `host:port`. */
  constructor(network: NetworkImpl, clock: TickManager, options: NetworkServerOptions = {}) {
    requireListenOptions(
      options,
      'new NetworkServer(network, clock, { host, port })',
      "; huly.net's new NetworkServer(network, tickManager, host, port) is NetworkServer of @huly/network/compat",
    )
    const host = options.host ?? '127.0.0.1'
    const port = requirePort(options.port ?? 3737)
    this.#network = network
    this.#clock = clock
    this.metrics = new CoordinatorMetrics(options.metrics)
    const { timeouts } = network
    const guard = options.security && new AccessGuard(options.security.peers)
    this.#guard = guard
    const { perSecond, burst } = options.rateLimit ?? {}
    if (perSecond !== undefined) {
      if (!(perSecond > 0) || (burst !== undefined && !(burst >= 1))) {
        throw new InvalidArgumentError('rateLimit needs perSecond > 0 and burst >= 1')
      }
      this.#limiter = new RateLimiter(clock, perSecond, burst)
    }
    this.#rpc = new RpcServer({
      clock,
      handler: (request) => this.#handle(request),
      serverId: 'huly-network',
      aliveTimeoutMs: timeouts.aliveTimeout * 1000,
      checkIntervalMs: timeouts.pingInterval * 1000,
      requestTimeoutMs: timeouts.requestTimeout * 1000,
      maxInFlight: options.maxInFlight,
      transport: options.transport,
      limits: options.limits,
      socket: guard === undefined ? options.socket : {
        ...options.socket,
        curve: { secretKey: options.security!.secretKey },
        zapHandler: guard.zap,
        readUserId: true,
      },
      authenticate: (hello) => {
        guard?.authenticate(hello)
        // The rate limit counts hellos too: a key cannot open sessions at any rate.
        if (this.#limiter !== undefined && !this.#limiter.take(hello.userId || hello.clientId)) {
          throw new LimitExceededError(
            'hello-rate',
            `hello-rate: more than ${this.#limiter.perSecond} requests and hellos/s from this peer`,
          )
        }
        options.authenticate?.(hello)
      },
      peerIdOf: guard?.peerIdOf,
      onBusy: (direction) => this.metrics.busy(direction),
      onSession: (_session, resumed, hello) => {
        if (hello.resume) this.metrics.reconnect()
        // A peer that was connected before, to a coordinator that is gone: this one
        // restarted, so agents get time to re-register before containers are placed.
        if (hello.resume && !resumed && !network.recovering) network.beginRecovery()
      },
      onSessionClosed: (session) => this.#sessionClosed(session),
      onEvent: (session, topic, meta, body) => this.#agentEvent(session, topic, meta, body),
    })
    this.endpoint = this.#rpc.listen(`tcp://${host}:${port}`)
    this.#unsubscribe = network.subscribe((event) => {
      this.metrics.event(event)
      this.#publish(event)
    })
    this.#stopObservingMoves = network.observeMoves({
      moved: (event) => this.metrics.moved(event),
      held: (outcome, waitedMs) => this.metrics.held(outcome, waitedMs),
    })
    this.metrics.attach({
      counts: () => this.#network.counts(),
      sessions: () => this.#rpc.sessions().length,
      stats: () => this.#rpc.stats,
    })
    this.#unregisterPing = clock.register(() => this.#pingLiveSessions(), timeouts.pingInterval)
    logger.info('network server listening on {endpoint}', { endpoint: this.endpoint })
  }

  /** The network this server serves. */
  get network(): NetworkImpl {
    return this.#network
  }

  /** Whether it accepts peers: listening and not closing. */
  get ready(): boolean {
    return !this.#closed && !this.#stopping
  }

  /** Requests routed to each agent so far, and those not answered yet. */
  agentLoads(): Array<{ agentId: AgentUuid; requests: number; inFlight: number }> {
    return [...this.#agentOwners].map(([agentId, { agent }]) => ({
      agentId,
      requests: agent.requests,
      inFlight: agent.inFlight,
    }))
  }

  /** Agents (with their load), containers, clients and sessions now. */
  state(): CoordinatorState {
    const { agents, ...rest } = this.#network.snapshot()
    return {
      endpoint: this.endpoint,
      at: Date.now(),
      ...rest,
      agents: agents.map((record) => {
        const owner = this.#agentOwners.get(record.agentId)
        return {
          ...record,
          clientId: owner?.clientId,
          requests: owner?.agent.requests ?? 0,
          inFlight: owner?.agent.inFlight ?? 0,
        }
      }),
      sessions: this.#rpc.sessions().map((session) => session.peerId as ClientUuid),
    }
  }

  /** Counters of malformed and refused input. */
  get stats(): RpcServer['stats'] {
    return this.#rpc.stats
  }

  /** Tells every peer the server is going away (bye with `reason`), and closes. */
  async close(reason?: string): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#unsubscribe()
    this.#stopObservingMoves()
    this.#unregisterPing()
    await this.#rpc.close(reason)
  }

  /**
   * Stops for a restart without running anything twice: requests that arrive from
   * now on are never run nor answered (their senders send them again to the next
   * coordinator, within their deadlines), those being served get up to `graceMs` to
   * be answered, then every peer is told bye `reason` and the server closes.
   */
  async shutdown(reason = 'restarting', graceMs = 1000): Promise<void> {
    if (this.#closed) return
    this.#stopping = true
    const until = this.#clock.now() + graceMs
    while (this.#active > 0 && this.#clock.now() < until) {
      await new Promise<void>((resolve) => this.#clock.schedule(resolve, 10))
    }
    if (this.#active > 0) {
      logger.warn('{count} requests were still being served after {graceMs} ms; closing anyway', {
        count: this.#active,
        graceMs,
      })
    }
    await this.close(reason)
  }

  /**
   * Replaces the allow-list (SIGHUP): sessions of keys no longer listed end now,
   * sessions of other keys go on under their new grant, and agents are told to
   * forget every key that went or changed.
   */
  setPeers(peers: PeerGrant[]): void {
    if (this.#guard === undefined) {
      throw new InvalidArgumentError('this server has no keys: start it with security')
    }
    const changed = this.#guard.setPeers(peers)
    if (changed.length === 0) return
    for (const session of this.#rpc.sessions()) {
      if (changed.includes(session.userId) && this.#guard.grant(session.userId) === undefined) {
        audit('revoked', { publicKey: session.userId, clientId: session.peerId })
        this.#rpc.disconnect(session.peerId, 'the key was revoked')
      }
    }
    const body = encode({ publicKeys: changed })
    const agentSessions = new Set([...this.#agentOwners.values()].map(({ agent }) => agent.session))
    for (const session of agentSessions) session.event(EventTopic.revoked, body)
  }

  /** Serves one request unless stopping (then it is left unanswered, to be sent again). */
  #handle(request: IncomingRequest): Promise<Uint8Array> {
    if (this.#stopping) return new Promise<Uint8Array>(() => {})
    this.#active++
    return this.#serve(request).finally(() => this.#active--)
  }

  /** Serves one request, timed and counted, in a span when tracing is on. */
  async #serve(request: IncomingRequest): Promise<Uint8Array> {
    const started = performance.now()
    const { operation } = request
    let kind = ''
    let span: Span | undefined
    try {
      if (this.#limiter !== undefined) {
        const session = request.session
        if (!this.#limiter.take(session.userId || session.peerId)) {
          throw new RateLimitError(`more than ${this.#limiter.perSecond} requests/s from this peer`)
        }
      }
      let route = operation === NetworkOperation.request ? this.#route(request) : undefined
      if (route !== undefined) {
        const held = this.#network.holdWhileMoving(
          route.record.uuid,
          request.body.byteLength,
          request.timeoutMs,
          request.signal,
        )
        if (held !== undefined) route = await this.#routeAfter(held, request)
        kind = route.record.kind
      }
      if (tracingEnabled()) span = this.#startSpan(request, route?.record)
      let reply: Uint8Array
      if (route !== undefined) {
        reply = await this.#forward(route, request, span)
      } else {
        const trace = traceparentOf(span, request.trace)
        const result = await (trace === undefined
          ? this.#handleControl(request)
          : withTraceparent(trace, () =>
            this.#handleControl(request)))
        if (operation === NetworkOperation.get) kind = (result as ContainerRecord).kind
        reply = encode(result)
      }
      this.metrics.request(operation, kind, (performance.now() - started) / 1000)
      endRequestSpan(span)
      return reply
    } catch (error) {
      this.metrics.request(operation, kind, (performance.now() - started) / 1000, error)
      endRequestSpan(span, error)
      throw error
    }
  }

  /**
   * The hot path: the body goes to the container's agent undecoded. An agent that
   * answers "moving" did not run it: it waits for the move here and goes on.
   */
  async #forward(
    route: { record: ContainerRecord; agent: RemoteAgent },
    request: IncomingRequest,
    span: Span | undefined,
  ): Promise<Uint8Array> {
    for (let attempt = 0;; attempt++) {
      const { agent, record } = route
      agent.requests++
      agent.inFlight++
      try {
        return await agent.forward(
          record.uuid,
          (request.meta as RouteMeta).operation,
          request.body,
          request.session.peerId as ClientUuid,
          request.timeoutMs,
          request,
          traceparentOf(span, request.trace),
        )
      } catch (error) {
        if (!(error instanceof ContainerMovingError) || attempt > 2) {
          throw error
        }
        const held = this.#network.holdWhileMoving(
          record.uuid,
          request.body.byteLength,
          request.timeoutMs,
          request.signal,
        )
        route = await this.#routeAfter(held ?? Promise.resolve(), request)
      } finally {
        agent.inFlight--
      }
    }
  }

  /** Routes a request again once its container's move ended. */
  async #routeAfter(
    held: Promise<void>,
    request: IncomingRequest,
  ): Promise<{ record: ContainerRecord; agent: RemoteAgent }> {
    await held
    return this.#route(request)
  }

  #startSpan(request: IncomingRequest, record: ContainerRecord | undefined): Span | undefined {
    const attributes: Record<string, string> = {
      'rpc.system': 'huly-network',
      'rpc.method': request.operation,
      'huly.client.id': request.session.peerId,
    }
    if (record !== undefined) {
      attributes['huly.container.uuid'] = record.uuid
      attributes['huly.container.kind'] = record.kind
      attributes['huly.container.operation'] = (request.meta as RouteMeta).operation
      attributes['huly.agent.id'] = record.agentId
    }
    const name = record === undefined ? request.operation : `${request.operation} ${record.kind}`
    return startRequestSpan(
      TracerName.coordinator,
      name,
      SpanKind.SERVER,
      request.trace,
      attributes,
    )
  }

  async #handleControl(request: IncomingRequest): Promise<unknown> {
    const session = request.session
    const clientId = session.peerId as ClientUuid
    const params = paramsOf(request.body)
    switch (request.operation) {
      case NetworkOperation.get:
        return await this.#get(session, params.kind as ContainerKind, params.options ?? {})
      case NetworkOperation.release:
        return await this.#network.release(clientId, params.uuid as ContainerUuid)
      case NetworkOperation.list:
        return this.#visible(session, this.#network.list(params.kind as ContainerKind | undefined))
      case NetworkOperation.agents:
        return this.#network.agents()
      case NetworkOperation.kinds:
        return this.#network.kinds()
      case NetworkOperation.register:
        return await this.#register(session, params.registration as AgentRegistration)
      case NetworkOperation.unregister:
        this.#guard?.check(session, (grant) => grant.role !== 'client', 'unregister agents')
        return await this.#unregister(clientId, params.agentId as AgentUuid)
      case NetworkOperation.connect:
      case NetworkOperation.disconnect:
        return await this.#connection(request.operation, session, params.uuid as ContainerUuid)
      case NetworkOperation.drain:
        this.#guard?.check(session, (grant) => grant.role !== 'client', 'drain agents')
        return await this.#drain(clientId, params.agentId as AgentUuid, params.deadlineMs)
      case NetworkOperation.identify:
        this.#guard?.check(session, (grant) => grant.role !== 'client', 'identify peers')
        return this.#guard?.grant(String(params.publicKey)) ?? null
      default:
        throw new ProtocolError(`unknown operation "${request.operation}"`)
    }
  }

  /**
   * A get, checked twice with keys: what is asked (the live container of that uuid,
   * else the kind and labels a new one would carry), then what was got.
   */
  async #get(session: RpcSession, kind: ContainerKind, options: unknown): Promise<unknown> {
    const query = (options ?? {}) as GetOptions
    const clientId = session.peerId as ClientUuid
    if (this.#guard !== undefined && typeof query === 'object') {
      const live = typeof query.uuid === 'string' ? this.#network.route(query.uuid) : undefined
      const labels = Array.isArray(query.labels) ? query.labels : []
      this.#checkUse(session, live?.record ?? { kind, labels, uuid: query.uuid })
      if (live === undefined && typeof query.uuid === 'string') {
        this.#checkScope(session, query.uuid)
      }
    }
    const record = await this.#network.get(clientId, kind, query)
    try {
      this.#checkUse(session, record)
    } catch (error) {
      await this.#network.release(clientId, record.uuid)
      throw error
    }
    return record
  }

  /** With keys: may the caller use this container? (On the hot path: no work when it may.) */
  #checkUse(
    session: RpcSession,
    container: Pick<ContainerRecord, 'kind' | 'labels'> & { uuid?: string },
  ): void {
    if (this.#guard === undefined) return
    const grant = this.#guard.of(session)
    if (mayUse(grant, container.kind, container.labels)) return
    requireAccess(false, grant, describeUse(container))
  }

  /**
   * With keys, a client limited to labels may start a container by uuid only under
   * one of its labels (`workspace:42/inbox`): a uuid outside them could be another
   * tenant's, and taking it first would lock that tenant out of it.
   */
  #checkScope(session: RpcSession, uuid: string): void {
    const labels = this.#guard!.of(session).labels ?? []
    if (labels.length === 0 || labels.some((label) => uuid.startsWith(`${label}/`))) return
    this.metrics.refuse('uuid-scope', `a uuid outside the caller's labels: ${uuid}`)
    requireAccess(
      false,
      this.#guard!.of(session),
      `start container ${uuid}: a uuid must start with one of ${
        labels.map((label) => `"${label}/"`).join(', ')
      }`,
    )
  }

  /** The containers the caller may see. */
  #visible(session: RpcSession, records: ContainerRecord[]): ContainerRecord[] {
    if (this.#guard === undefined) return records
    const grant = this.#guard.of(session)
    if (seesEverything(grant)) return records
    return records.filter((record) => mayUse(grant, record.kind, record.labels))
  }

  /** Sends a change event to every session; a restricted one sees only its containers. */
  #publish(event: NetworkEvent): void {
    const body = encode(event)
    for (const session of this.#rpc.sessions()) {
      const grant = this.#guard?.grant(session.userId)
      if (this.#guard === undefined || (grant !== undefined && seesEverything(grant))) {
        session.event(EventTopic.network, body)
        continue
      }
      if (grant === undefined) continue
      const containers = event.containers.filter(({ container }) =>
        mayUse(grant, container.kind, container.labels)
      )
      if (containers.length === 0 && event.agents.length === 0) continue
      session.event(EventTopic.network, encode({ agents: event.agents, containers }))
    }
  }

  /**
   * The hot path: the container's record and agent, to pass the body on without
   * decoding it. Throws (so the request fails) when the target is not live.
   */
  #route(request: IncomingRequest): { record: ContainerRecord; agent: RemoteAgent } {
    const meta = request.meta as Partial<RouteMeta> | undefined
    const target = meta?.target
    if (typeof target !== 'string' || typeof meta?.operation !== 'string') {
      throw new InvalidArgumentError('a routed request needs meta { target, operation }')
    }
    const route = this.#network.route(target)
    if (route === undefined || !(route.agent instanceof RemoteAgent)) {
      throw new ContainerNotFoundError(`container "${target}" is not live`)
    }
    this.#checkUse(request.session, route.record)
    return route as { record: ContainerRecord; agent: RemoteAgent }
  }

  async #register(session: RpcSession, registration: AgentRegistration): Promise<unknown> {
    const clientId = session.peerId as ClientUuid
    const agentId = registration?.agentId
    if (this.#guard !== undefined) {
      const kinds = [
        ...(Array.isArray(registration?.kinds) ? registration.kinds : []),
        ...(Array.isArray(registration?.containers) ? registration.containers : []).map(
          (container) => container?.kind,
        ),
      ]
      this.#guard.check(
        session,
        (grant) => mayRegister(grant, kinds),
        `register agent ${agentId} with kinds [${kinds.join(', ')}]`,
      )
    }
    const owner = this.#agentOwners.get(agentId)
    if (owner !== undefined && owner.clientId !== clientId && this.#rpc.session(owner.clientId)) {
      throw new AuthorizationError(`agent "${agentId}" is served by another live connection`)
    }
    const agent = new RemoteAgent(agentId, session)
    const result = await this.#network.register(registration, agent)
    this.#agentOwners.set(agentId, { clientId, agent })
    return result
  }

  async #unregister(clientId: ClientUuid, agentId: AgentUuid): Promise<null> {
    const owner = this.#agentOwners.get(agentId)
    if (owner !== undefined && owner.clientId !== clientId) {
      throw new AuthorizationError(`agent "${agentId}" belongs to another connection`)
    }
    await this.#network.unregister(agentId)
    this.#agentOwners.delete(agentId)
    return null
  }

  /** Only the connection serving an agent may drain it. */
  async #drain(clientId: ClientUuid, agentId: AgentUuid, deadlineMs: unknown): Promise<unknown> {
    const owner = this.#agentOwners.get(agentId)
    if (owner !== undefined && owner.clientId !== clientId) {
      throw new AuthorizationError(`agent "${agentId}" belongs to another connection`)
    }
    if (deadlineMs !== undefined && typeof deadlineMs !== 'number') {
      throw new InvalidArgumentError('deadlineMs must be a number of milliseconds')
    }
    return await this.#network.drain(agentId, { deadlineMs })
  }

  async #connection(
    operation: typeof NetworkOperation.connect | typeof NetworkOperation.disconnect,
    session: RpcSession,
    uuid: ContainerUuid,
  ): Promise<null> {
    const clientId = session.peerId as ClientUuid
    const route = this.#network.route(uuid)
    if (route === undefined || !(route.agent instanceof RemoteAgent)) {
      throw new ContainerNotFoundError(`container "${uuid}" is not live`)
    }
    if (operation === NetworkOperation.connect) this.#checkUse(session, route.record)
    let connected = this.#connections.get(clientId)
    if (operation === NetworkOperation.connect) {
      await route.agent.connection(AgentOperation.connect, uuid, clientId)
      if (connected === undefined) this.#connections.set(clientId, connected = new Set())
      connected.add(uuid)
    } else {
      connected?.delete(uuid)
      await route.agent.connection(AgentOperation.disconnect, uuid, clientId)
    }
    return null
  }

  /**
   * A container's broadcast, from its agent to the one client it is for; only the
   * connection serving the container's agent may send it.
   */
  #agentEvent(session: RpcSession, topic: string, meta: unknown, body: Uint8Array): void {
    const { uuid, clientId } = (meta ?? {}) as Partial<ContainerEventMeta>
    if (
      topic !== EventTopic.container || typeof uuid !== 'string' || typeof clientId !== 'string'
    ) {
      this.#rpc.count('malformed')
      return
    }
    const agent = this.#network.route(uuid)?.agent
    if (!(agent instanceof RemoteAgent) || agent.session !== session) {
      this.#rpc.count('rejected')
      return
    }
    if (this.#rpc.session(clientId)?.event(EventTopic.container, body, { uuid })) {
      this.metrics.containerEvent()
    }
  }

  /** Live rpc sessions keep their client, and the agents they serve, alive. */
  #pingLiveSessions(): void {
    const live = new Set<string>()
    for (const session of this.#rpc.sessions()) {
      live.add(session.peerId)
      this.#network.ping(session.peerId as ClientUuid)
    }
    for (const [agentId, owner] of this.#agentOwners) {
      if (live.has(owner.clientId)) this.#network.ping(agentId)
    }
  }

  /**
   * A connection ended (silent, said bye, or replaced by a restarted client): the
   * agents it served and the references it held go now, not one more timeout later.
   */
  #sessionClosed(session: RpcSession): void {
    const clientId = session.peerId as ClientUuid
    if (this.#closed) return
    for (const [agentId, owner] of [...this.#agentOwners]) {
      if (owner.clientId !== clientId) continue
      this.#agentOwners.delete(agentId)
      this.#network.unregister(agentId).catch((error) =>
        logger.warn('unregistering agent {agentId} of a closed session failed: {error}', {
          agentId,
          error,
        })
      )
    }
    this.#network.clientGone(clientId)
    const connected = this.#connections.get(clientId)
    this.#connections.delete(clientId)
    for (const uuid of connected ?? []) {
      const route = this.#network.route(uuid)
      if (route?.agent instanceof RemoteAgent) {
        route.agent.connection(AgentOperation.disconnect, uuid, clientId).catch((error) =>
          logger.debug('disconnect of {clientId} from {uuid} failed: {error}', {
            clientId,
            uuid,
            error,
          })
        )
      }
    }
  }
}

function paramsOf(body: Uint8Array): Record<string, unknown> {
  const params = decode(body)
  if (params === null || params === undefined) return {}
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw new InvalidArgumentError('the parameters of a network operation must be an object')
  }
  return params as Record<string, unknown>
}
