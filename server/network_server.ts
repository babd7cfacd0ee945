/**
 * The coordinator: a network model (`NetworkImpl`) behind an rpc server.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type { Span } from '@opentelemetry/api'
import type { TickManager } from '../common/clock.ts'
import { audit, mayUse, type PeerGrant, seesEverything } from '../security/access.ts'
import {
  InvalidArgumentError,
  LimitExceededError,
  ProtocolError,
  RateLimitError,
} from '../common/errors.ts'
import type { MetricsRegistry } from '../observability/metrics.ts'
import { requireListenOptions, requirePort } from '../common/validate.ts'
import type { CoordinatorModel } from '../core/model.ts'
import { dispatcher, type ResultOf } from '../core/operations.ts'
import { type ContainerEventMeta, EventTopic, NetworkOperation } from '../core/protocol.ts'
import type {
  AgentRecord,
  AgentUuid,
  ClientUuid,
  NetworkEvent,
  NetworkSnapshot,
} from '../core/types.ts'
import {
  endRequestSpan,
  traceparentOf,
  tracingEnabled,
  withTraceparent,
} from '../observability/tracing.ts'
import { decode, encode } from '../rpc/codec.ts'
import { RpcServer } from '../rpc/server.ts'
import type { RpcServerOptions } from '../rpc/server_options.ts'
import type { IncomingRequest, RpcSession } from '../rpc/session.ts'
import { ClientOperations } from './_client_operations.ts'
import { AccessGuard } from './_guard.ts'
import { Router, startSpan } from './_routing.ts'
import { ServedAgents } from './_served_agents.ts'
import { RateLimiter } from '../rpc/rate_limiter.ts'
import { CoordinatorMetrics } from './metrics.ts'
import { DEFAULT_HOST, DEFAULT_PORT } from './_defaults.ts'

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
  readonly #network: CoordinatorModel
  readonly #rpc: RpcServer
  /** The agents served through this server's sessions. */
  readonly #agents: ServedAgents
  readonly #clients: ClientOperations
  readonly #router: Router
  /** Checks the parameters of a control operation and runs its handler. */
  readonly #dispatch: (operation: string, body: unknown, session: RpcSession) => Promise<unknown>
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
  constructor(network: CoordinatorModel, clock: TickManager, options: NetworkServerOptions = {}) {
    requireListenOptions(
      options,
      'new NetworkServer(network, clock, { host, port })',
      "; huly.net's new NetworkServer(network, tickManager, host, port) is NetworkServer of @huly/network/compat",
    )
    const host = options.host ?? DEFAULT_HOST
    const port = requirePort(options.port ?? DEFAULT_PORT)
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
      aliveTimeoutMs: timeouts.aliveTimeoutMs,
      checkIntervalMs: timeouts.pingIntervalMs,
      requestTimeoutMs: timeouts.requestTimeoutMs,
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
    this.#agents = new ServedAgents(network, this.#rpc, guard)
    this.#clients = new ClientOperations(network, this.#agents, guard, this.metrics)
    this.#router = new Router(network, this.#agents, guard)
    this.#dispatch = dispatcher(
      'network',
      { ...this.#clients.handlers, ...this.#agents.handlers },
      (operation) => new ProtocolError(`unknown operation "${operation}"`),
    )
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
    this.#unregisterPing = clock.every(() => this.#pingLiveSessions(), timeouts.pingIntervalMs)
    logger.info('network server listening on {endpoint}', { endpoint: this.endpoint })
  }

  /** The network this server serves. */
  get network(): CoordinatorModel {
    return this.#network
  }

  /** Whether it accepts peers: listening and not closing. */
  get ready(): boolean {
    return !this.#closed && !this.#stopping
  }

  /** Requests routed to each agent so far, and those not answered yet. */
  agentLoads(): Array<{ agentId: AgentUuid; requests: number; inFlight: number }> {
    return [...this.#agents.all()].map(({ uuid, requests, inFlight }) => ({
      agentId: uuid,
      requests,
      inFlight,
    }))
  }

  /** Agents (with their load), containers, clients and sessions now. */
  state(): CoordinatorState {
    const { agents, ...rest } = this.#network.snapshot()
    return {
      endpoint: this.endpoint,
      at: Date.now(),
      ...rest,
      agents: agents.map((record: AgentRecord) => {
        const agent = this.#agents.byId(record.agentId)
        return {
          ...record,
          clientId: agent?.clientId,
          requests: agent?.requests ?? 0,
          inFlight: agent?.inFlight ?? 0,
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
    const agentSessions = new Set([...this.#agents.all()].map((agent) => agent.session))
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
      let route = operation === NetworkOperation.request ? this.#router.route(request) : undefined
      if (route !== undefined) {
        const held = this.#router.hold(route, request)
        if (held !== undefined) route = await this.#router.routeAfter(held, request)
        kind = route.record.kind
      }
      if (tracingEnabled()) span = startSpan(request, route)
      let reply: Uint8Array
      if (route !== undefined) {
        reply = await this.#router.forward(route, request, span)
      } else {
        const trace = traceparentOf(span, request.trace)
        const control = () => this.#dispatch(operation, decode(request.body), request.session)
        const result = await (trace === undefined ? control() : withTraceparent(trace, control))
        if (operation === NetworkOperation.get) {
          kind = (result as ResultOf<typeof NetworkOperation.get>).kind
        }
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
    const agent = this.#agents.of(this.#network.route(uuid)?.agent)
    if (agent === undefined || agent.session !== session) {
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
    for (const agent of this.#agents.all()) {
      if (live.has(agent.clientId)) this.#network.ping(agent.uuid)
    }
  }

  /**
   * A connection ended (silent, said bye, or replaced by a restarted client): the
   * agents it served and the references it held go now, not one more timeout later.
   */
  #sessionClosed(session: RpcSession): void {
    const clientId = session.peerId as ClientUuid
    if (this.#closed) return
    this.#agents.sessionClosed(clientId)
    this.#network.clientGone(clientId)
    this.#clients.sessionClosed(clientId)
  }
}
