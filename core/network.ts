/**
 * The coordinator's model: registry, placement, references, liveness and events.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type { TickManager } from '../common/clock.ts'
import { DEFAULT_DRAIN_DEADLINE_MS, HELD_REQUEST_LIMITS } from './drain.ts'
import { parseEndpointRef } from './endpoint.ts'
import {
  AgentLostError,
  AgentNotFoundError,
  ClosedError,
  ContainerNotFoundError,
  InvalidArgumentError,
  NoAgentError,
  ProtocolError,
  TimeoutError,
} from '../common/errors.ts'
import { resolveTimeouts, type Timeouts } from './timeouts.ts'
import type {
  AgentRecord,
  AgentRegistration,
  AgentUuid,
  ClientStatus,
  ClientUuid,
  ContainerKind,
  ContainerRecord,
  ContainerState,
  ContainerStatus,
  ContainerUuid,
  CoordinatorModel,
  DrainOptions,
  DrainResult,
  GetOptions,
  MoveEvent,
  MoveObserver,
  MoveOutResult,
  Network,
  NetworkAgent,
  NetworkCounts,
  NetworkEventListener,
  NetworkSnapshot,
  RegisterResult,
} from './types.ts'
import { EventBatcher } from './_events.ts'
import { HeldRequests } from './_held_requests.ts'
import { ReferenceTable } from './_references.ts'
import { requireRegistration } from './operations.ts'
import {
  requireFunction,
  requireId,
  requireLabels,
  requireObject,
  requirePositive,
  requireRecord,
} from '../common/validate.ts'

const logger = getLogger(['huly-network', 'core', 'network'])

/**
 * Options of {@link NetworkImpl}.
 *
 * @example
 * ```ts
 * import type { NetworkOptions } from '@huly/network/core'
 * const options: NetworkOptions = { timeouts: { aliveTimeout: 5 } }
 * ```
 */
export interface NetworkOptions {
  /** Timings in seconds; missing ones take the defaults of `timeouts`. */
  timeouts?: Partial<Timeouts>
  /** Bounds of the requests held for one moving container (`HELD_REQUEST_LIMITS`). */
  heldRequests?: { count: number; bytes: number }
}

/** Containers of one draining agent that move at once. */
const MOVES_AT_ONCE = 16

/** The longest drain deadline accepted: an hour. */
const MAX_DRAIN_DEADLINE_MS = 3_600_000

interface AgentEntry<A extends NetworkAgent> {
  agent: A
  agentId: AgentUuid
  kinds: Set<ContainerKind>
  endpoint?: string
  lastSeen: number
  containers: Set<ContainerUuid>
  standby: Set<ContainerUuid>
  /** Draining: nothing new is placed on it. */
  draining: boolean
}

interface ContainerEntry {
  record: ContainerRecord
  /** When the last reference was dropped; undefined while someone holds it. */
  unusedSince?: number
  /** While it moves to another agent: the requests held for it. */
  move?: HeldRequests
}

/** How one container's move ended ('gone': it left the registry meanwhile). */
type MoveOutcome = Pick<MoveEvent, 'outcome' | 'reason'> | { outcome: 'gone'; reason?: string }

interface PendingStart {
  kind: ContainerKind
  labels: string[]
  agentId: AgentUuid
  promise: Promise<ContainerRecord>
  resolve: (record: ContainerRecord) => void
  reject: (error: Error) => void
}

/**
 * The network: places containers on agents round-robin per kind, reuses them by
 * uuid, labels or kind, counts references per get, terminates unused containers,
 * removes silent agents and clients, hands stateless containers to standbys, and
 * publishes every change as events.
 *
 * @example
 * ```ts
 * import {
 *   AgentImpl,
 *   type AgentUuid,
 *   type ClientUuid,
 *   type ContainerKind,
 *   ManualTickManager,
 *   NetworkImpl,
 * } from '@huly/network/core'
 *
 * const network = new NetworkImpl(new ManualTickManager())
 * const agent = new AgentImpl('agent-1' as AgentUuid, {
 *   echo: (options) =>
 *     Promise.resolve({
 *       uuid: options.uuid,
 *       container: {
 *         request: (_op, data) => Promise.resolve(data),
 *       },
 *     }),
 * })
 * await network.register(agent.registration(), agent)
 * const record = await network.get('client-1' as ClientUuid, 'echo' as ContainerKind)
 * console.assert(await network.request(record.uuid, 'echo', 42) === 42)
 * await network.close()
 * ```
 */
export class NetworkImpl<A extends NetworkAgent = NetworkAgent>
  implements Network, CoordinatorModel<A> {
  /** The timings in force, in seconds. */
  readonly timeouts: Readonly<Timeouts>
  private readonly agentsById = new Map<AgentUuid, AgentEntry<A>>()
  private readonly containers = new Map<ContainerUuid, ContainerEntry>()
  /** Live container uuids by kind, so a get by kind or labels looks at one kind only. */
  readonly #byKind = new Map<ContainerKind, Set<ContainerUuid>>()
  private readonly pending = new Map<ContainerUuid, PendingStart>()
  private readonly clients = new Map<ClientUuid, number>()
  /** Standby instances of stateless containers, in the order they were declared. */
  private readonly standbys = new Map<ContainerUuid, ContainerRecord[]>()
  private readonly references = new ReferenceTable()
  private readonly nextAgentIndex = new Map<ContainerKind, number>()
  private readonly events = new EventBatcher()
  private readonly unregisterCheck: () => void
  private closed = false
  /** Until when new containers wait for agents to re-register (see beginRecovery). */
  #recoveringUntil = 0
  /**
   * Until when no container is terminated as unused (see beginRecovery): the clients
   * of the containers agents re-register come back and take them again by then.
   */
  #keepUnusedUntil = 0
  /** Woken by every registration and when recovery ends. */
  #recoveryWaiters: Array<() => void> = []
  readonly #heldLimits: { count: number; bytes: number }
  readonly #moveObservers = new Set<MoveObserver>()

  /** Creates a network on `clock`; it checks liveness every `pingInterval`. */
  constructor(private readonly clock: TickManager, options: NetworkOptions = {}) {
    requireFunction(clock?.now, 'clock.now')
    this.timeouts = resolveTimeouts(options.timeouts)
    this.#heldLimits = { ...(options.heldRequests ?? HELD_REQUEST_LIMITS) }
    requirePositive(this.#heldLimits.count, 'heldRequests.count')
    requirePositive(this.#heldLimits.bytes, 'heldRequests.bytes')
    this.unregisterCheck = clock.register(() => this.#checkLiveness(), this.timeouts.pingInterval)
  }

  /** Registers an agent, or re-registers it with the containers it still has. */
  // deno-lint-ignore require-await -- async so that bad input rejects, never throws
  async register(registration: AgentRegistration, agent: A): Promise<RegisterResult> {
    this.#assertOpen()
    const parsed = requireRegistration(registration)
    requireFunction(agent?.get, 'agent.get')
    requireFunction(agent?.terminate, 'agent.terminate')
    requireFunction(agent?.request, 'agent.request')

    const previous = this.agentsById.get(parsed.agentId)
    const entry: AgentEntry<A> = {
      agent,
      agentId: parsed.agentId,
      kinds: new Set([...parsed.kinds, ...parsed.containers.map((c) => c.kind)]),
      endpoint: parsed.endpoint,
      lastSeen: this.clock.now(),
      containers: new Set(),
      standby: new Set(),
      draining: previous?.draining ?? false,
    }
    this.agentsById.set(parsed.agentId, entry)
    if (previous !== undefined) this.#dropUnreported(previous, parsed.containers)

    const standby: ContainerUuid[] = []
    for (const record of parsed.containers) {
      if (this.#adoptReported(entry, record) === 'standby') standby.push(record.uuid)
    }
    this.events.agent(previous === undefined ? 'added' : 'updated', agentRecord(entry))
    this.#wakeRecoveryWaiters()
    logger.info('agent {agentId} registered with {count} containers', {
      agentId: entry.agentId,
      count: parsed.containers.length,
    })
    return { standby }
  }

  /** Removes an agent and every container it serves. */
  // deno-lint-ignore require-await -- async so that bad input rejects, never throws
  async unregister(agentId: AgentUuid): Promise<void> {
    this.#assertOpen()
    requireId(agentId, 'agentId')
    if (!this.agentsById.has(agentId)) {
      throw new AgentNotFoundError(`agent "${agentId}" is not registered`)
    }
    this.#removeAgent(agentId, 'unregistered')
  }

  /** Marks an agent or a client as alive (an unknown id is taken for a client). */
  ping(id: AgentUuid | ClientUuid): void {
    this.#assertOpen()
    requireId(id, 'id')
    const agent = this.agentsById.get(id as AgentUuid)
    if (agent !== undefined) agent.lastSeen = this.clock.now()
    else this.clients.set(id as ClientUuid, this.clock.now())
  }

  /**
   * A client is gone (its connection closed or fell silent): its references are
   * released now, as they would be after `aliveTimeout` without pings.
   */
  clientGone(clientId: ClientUuid): void {
    this.#assertOpen()
    requireId(clientId, 'clientId')
    if (this.clients.has(clientId) || this.references.holdsAny(clientId)) {
      this.#forgetClient(clientId, 'gone')
    }
  }

  /** Reuses or starts a container, and adds one reference of `clientId` to it. */
  async get(
    clientId: ClientUuid,
    kind: ContainerKind,
    options: GetOptions = {},
  ): Promise<ContainerRecord> {
    this.#assertOpen()
    requireId(clientId, 'clientId')
    requireId(kind, 'kind')
    requireObject(options, 'options')
    const uuid = options.uuid === undefined
      ? undefined
      : requireId<ContainerUuid>(options.uuid, 'uuid')
    const labels = requireLabels(options.labels)
    const extra = requireRecord(options.extra, 'extra')

    this.clients.set(clientId, this.clock.now())
    const record = await this.#findOrStart(kind, uuid, labels, extra)
    const entry = this.containers.get(record.uuid)
    if (entry === undefined) {
      throw new AgentLostError(`container "${record.uuid}" was removed before it could be held`)
    }
    this.references.acquire(clientId, record.uuid)
    entry.unusedSince = undefined
    return { ...entry.record }
  }

  /** Drops one reference of `clientId` to `uuid`; false when it held none. */
  // deno-lint-ignore require-await -- async so that bad input rejects, never throws
  async release(clientId: ClientUuid, uuid: ContainerUuid): Promise<boolean> {
    this.#assertOpen()
    requireId(clientId, 'clientId')
    requireId(uuid, 'uuid')
    if (!this.references.release(clientId, uuid)) return false
    this.#markUnusedIfFree(uuid)
    return true
  }

  /** Live containers, of one kind or all. */
  list(kind?: ContainerKind): ContainerRecord[] {
    this.#assertOpen()
    if (kind !== undefined) requireId(kind, 'kind')
    const uuids = kind === undefined ? this.containers.keys() : this.#byKind.get(kind) ?? []
    return [...uuids].map((uuid) => ({ ...this.containers.get(uuid)!.record }))
  }

  /** Sends a request to a live container through its agent. */
  async request(
    target: ContainerUuid,
    operation: string,
    data: unknown,
    clientId?: ClientUuid,
  ): Promise<unknown> {
    this.#assertOpen()
    requireId(target, 'target')
    requireId(operation, 'operation')
    if (clientId !== undefined) requireId(clientId, 'clientId')
    await this.holdWhileMoving(target, 0, this.timeouts.requestTimeout * 1000)
    const entry = this.containers.get(target)
    const agent = entry && this.agentsById.get(entry.record.agentId)
    if (agent === undefined) {
      throw new ContainerNotFoundError(`container "${target}" is not live`)
    }
    return await agent.agent.request(target, operation, data, clientId)
  }

  /**
   * While `target` moves to another agent, a request for it waits here: the promise
   * resolves when the move ends (route it then), or rejects with `TimeoutError` at
   * `timeoutMs` (or with `signal`'s reason), or at once with `LimitExceededError`
   * past the hold limits. Undefined when it is not moving.
   */
  holdWhileMoving(
    target: ContainerUuid,
    bytes: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> | undefined {
    return this.containers.get(target)?.move?.hold(target, bytes, timeoutMs, signal)
  }

  /** Tells `observer` of every move and held request; returns the function that stops it. */
  observeMoves(observer: MoveObserver): () => void {
    this.#moveObservers.add(observer)
    return () => this.#moveObservers.delete(observer)
  }

  /**
   * Drains an agent: nothing new is placed on it, its stateless containers pass to
   * their standbys, and each other container moves to another agent of its kind:
   * requests for it are held, the agent finishes those in flight, lets it hand over
   * its state and terminates it, and only then is it started elsewhere (same uuid,
   * kind, labels, extra) and the held requests sent there in order. With no other
   * agent of a kind, its containers wait for one until the deadline and are left.
   */
  async drain(agentId: AgentUuid, options: DrainOptions = {}): Promise<DrainResult> {
    this.#assertOpen()
    requireId(agentId, 'agentId')
    requireObject(options, 'options')
    const deadlineMs = options.deadlineMs === undefined
      ? DEFAULT_DRAIN_DEADLINE_MS
      : requirePositive(options.deadlineMs, 'deadlineMs')
    if (deadlineMs > MAX_DRAIN_DEADLINE_MS) {
      throw new InvalidArgumentError(`deadlineMs must be at most ${MAX_DRAIN_DEADLINE_MS} (1 h)`)
    }
    const agent = this.agentsById.get(agentId)
    if (agent === undefined) throw new AgentNotFoundError(`agent "${agentId}" is not registered`)
    const started = this.clock.now()
    if (!agent.draining) {
      agent.draining = true
      this.events.agent('updated', agentRecord(agent))
    }
    logger.info('agent {agentId} drains: {count} containers move within {deadlineMs} ms', {
      agentId,
      count: agent.containers.size,
      deadlineMs,
    })
    const failedOver = this.#failOverStateless(agent)
    const outcomes = await this.#moveAll(agentId, started + deadlineMs)
    const count = (outcome: string) => outcomes.filter((o) => o.outcome === outcome).length
    const reasons = [...new Set(outcomes.flatMap((o) => o.reason === undefined ? [] : [o.reason]))]
    const result: DrainResult = {
      agentId,
      moved: count('moved'),
      failed: count('failed'),
      left: count('left'),
      failedOver,
      durationMs: this.clock.now() - started,
      complete: count('failed') + count('left') === 0,
      ...(reasons.length === 0 ? {} : { reason: reasons.join('; ') }),
    }
    if (result.complete) logger.info('agent {agentId} drained in {durationMs} ms', { ...result })
    else {
      logger.warn(
        'agent {agentId} drain ended after {durationMs} ms with {left} containers left and {failed} failed: {reason}',
        { ...result },
      )
    }
    return result
  }

  /**
   * Holds the placement of new containers for `seconds` (default `aliveTimeout`):
   * after a coordinator restart, agents re-register what they host within that
   * time, and a get must find those containers rather than start second copies.
   * Until `aliveTimeout` after that, no container is terminated as unused: the
   * clients of the re-registered ones take them again by then. A server calls it
   * when its first resuming peer arrives.
   */
  beginRecovery(seconds: number = this.timeouts.aliveTimeout): void {
    this.#assertOpen()
    requirePositive(seconds, 'seconds')
    const until = this.clock.now() + seconds * 1000
    if (until <= this.#recoveringUntil) return
    this.#recoveringUntil = until
    // A client that held a container may notice the restart only at its alive timeout
    // (it missed the bye), and takes its references again then: a container an agent
    // re-registered meanwhile holds none yet, and must not be terminated as unused
    // (its state lost, and a second instance started when the client is back).
    this.#keepUnusedUntil = until + this.timeouts.aliveTimeout * 1000
    this.clock.schedule(() => this.#wakeRecoveryWaiters(), seconds * 1000)
    logger.info('recovering: new containers wait {seconds} s for agents to re-register', {
      seconds,
    })
  }

  /** Whether placement is held for recovery now. */
  get recovering(): boolean {
    return this.clock.now() < this.#recoveringUntil
  }

  /** Resolves at the next registration, or when recovery ends. */
  waitForRecovery(): Promise<void> {
    if (!this.recovering) return Promise.resolve()
    return new Promise((resolve) => this.#recoveryWaiters.push(resolve))
  }

  /**
   * The record of a live container and the agent that serves it: the forwarding
   * step of a server that passes requests on without decoding them.
   */
  route(target: ContainerUuid): { record: ContainerRecord; agent: A } | undefined {
    const entry = this.containers.get(target)
    const agent = entry && this.agentsById.get(entry.record.agentId)
    return agent === undefined ? undefined : { record: entry!.record, agent: agent.agent }
  }

  /** The handle a registered agent was registered with. */
  agentHandle(agentId: AgentUuid): A | undefined {
    return this.agentsById.get(agentId)?.agent
  }

  /** The handles of every registered agent. */
  *agentHandles(): IterableIterator<A> {
    for (const entry of this.agentsById.values()) yield entry.agent
  }

  /** Registered agents with their kinds, endpoint and live container count. */
  agents(): AgentRecord[] {
    this.#assertOpen()
    return [...this.agentsById.values()].map(agentRecord)
  }

  /** Every kind some registered agent offers, each once. */
  kinds(): ContainerKind[] {
    this.#assertOpen()
    const kinds = new Set<ContainerKind>()
    for (const agent of this.agentsById.values()) for (const kind of agent.kinds) kinds.add(kind)
    return [...kinds]
  }

  /** How many agents, clients, references, and containers by kind and state, now. */
  counts(): NetworkCounts {
    this.#assertOpen()
    const containers: NetworkCounts['containers'] = []
    const add = (kind: ContainerKind, state: ContainerState, count: number) => {
      if (count > 0) containers.push({ kind, state, count })
    }
    for (const [kind, uuids] of this.#byKind) {
      let unused = 0
      for (const uuid of uuids) if (this.containers.get(uuid)?.unusedSince !== undefined) unused++
      add(kind, 'live', uuids.size - unused)
      add(kind, 'unused', unused)
    }
    const tally = (kinds: Iterable<ContainerKind>, state: ContainerState) => {
      const byKind = new Map<ContainerKind, number>()
      for (const kind of kinds) byKind.set(kind, (byKind.get(kind) ?? 0) + 1)
      for (const [kind, count] of byKind) add(kind, state, count)
    }
    tally([...this.pending.values()].map((start) => start.kind), 'starting')
    tally([...this.standbys.values()].flat().map((record) => record.kind), 'standby')
    let clients = this.clients.size
    for (const [clientId] of this.references.clients()) if (!this.clients.has(clientId)) clients++
    let draining = 0
    for (const agent of this.agentsById.values()) if (agent.draining) draining++
    return {
      agents: this.agentsById.size,
      draining,
      clients,
      references: this.references.total,
      containers,
    }
  }

  /** Everything known now: agents, containers with state and references, clients. */
  snapshot(): NetworkSnapshot {
    this.#assertOpen()
    const containers: ContainerStatus[] = []
    let references = 0
    for (const [uuid, entry] of this.containers) {
      let held = 0
      for (const count of this.references.holdersOf(uuid)?.values() ?? []) held += count
      references += held
      const state = entry.unusedSince === undefined ? 'live' : 'unused'
      containers.push(containerStatus(entry.record, state, held))
    }
    for (const [uuid, start] of this.pending) {
      const { kind, agentId, labels } = start
      containers.push({ uuid, kind, agentId, labels, state: 'starting', references: 0 })
    }
    for (const records of this.standbys.values()) {
      for (const record of records) containers.push(containerStatus(record, 'standby', 0))
    }
    const clients = new Map<ClientUuid, ClientStatus>()
    for (const [clientId, lastSeen] of this.clients) {
      clients.set(clientId, { clientId, lastSeen, references: [] })
    }
    for (const [clientId, held] of this.references.clients()) {
      let client = clients.get(clientId)
      if (client === undefined) clients.set(clientId, client = { clientId, references: [] })
      for (const uuid of held) {
        client.references.push({ uuid, count: this.references.holdersOf(uuid)?.get(clientId) ?? 0 })
      }
    }
    return {
      agents: this.agents(),
      containers,
      clients: [...clients.values()],
      references,
      recovering: this.recovering,
    }
  }

  /** Subscribes to change events, delivered in order one turn after they happen. */
  subscribe(listener: NetworkEventListener): () => void {
    this.#assertOpen()
    requireFunction(listener, 'listener')
    return this.events.subscribe(listener)
  }

  /** Stops the liveness check and fails every pending start with `ClosedError`. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    this.unregisterCheck()
    for (const [uuid, start] of this.pending) {
      start.reject(new ClosedError(`the network closed while "${uuid}" was starting`))
    }
    this.pending.clear()
    this.events.clear()
    this.#wakeRecoveryWaiters()
    return Promise.resolve()
  }

  #wakeRecoveryWaiters(): void {
    for (const wake of this.#recoveryWaiters.splice(0)) wake()
  }

  /** Runs once per `pingInterval`: removes silent peers and unused containers. */
  #checkLiveness(): void {
    const now = this.clock.now()
    const aliveMs = this.timeouts.aliveTimeout * 1000
    for (const [clientId, lastSeen] of this.clients) {
      if (now - lastSeen > aliveMs) this.#forgetClient(clientId, 'silent')
    }
    for (const agent of [...this.agentsById.values()]) {
      if (now - agent.lastSeen > aliveMs) this.#removeAgent(agent.agentId, 'silent')
    }
    // After a restart the containers agents re-register wait for their clients.
    if (now < this.#keepUnusedUntil) return
    const unusedMs = this.timeouts.unusedContainerTimeout * 1000
    for (const [uuid, entry] of [...this.containers]) {
      if (
        entry.unusedSince !== undefined && entry.move === undefined &&
        now - entry.unusedSince >= unusedMs
      ) {
        this.#terminateContainer(uuid, entry)
      }
    }
  }

  async #findOrStart(
    kind: ContainerKind,
    uuid: ContainerUuid | undefined,
    labels: string[],
    extra: Record<string, unknown> | undefined,
  ): Promise<ContainerRecord> {
    for (;;) {
      const found = this.#find(kind, uuid, labels)
      if (found !== undefined) return await found
      if (!this.recovering) break
      await this.waitForRecovery()
      this.#assertOpen()
    }
    return await this.#start(kind, uuid ?? crypto.randomUUID() as ContainerUuid, labels, extra)
  }

  /** A live or starting container that satisfies the get, if any. */
  #find(
    kind: ContainerKind,
    uuid: ContainerUuid | undefined,
    labels: string[],
  ): Promise<ContainerRecord> | ContainerRecord | undefined {
    if (uuid !== undefined) {
      return this.containers.get(uuid)?.record ?? this.pending.get(uuid)?.promise
    }
    const matches = (candidateKind: ContainerKind, candidateLabels: string[]) =>
      candidateKind === kind && labels.every((label) => candidateLabels.includes(label))
    for (const candidate of this.#byKind.get(kind) ?? []) {
      const { record } = this.containers.get(candidate)!
      if (matches(record.kind, record.labels)) return record
    }
    for (const start of this.pending.values()) {
      if (matches(start.kind, start.labels)) return start.promise
    }
    return undefined
  }

  #start(
    kind: ContainerKind,
    uuid: ContainerUuid,
    labels: string[],
    extra: Record<string, unknown> | undefined,
  ): Promise<ContainerRecord> {
    const agent = this.#placeContainer(kind)
    const { promise, resolve, reject } = Promise.withResolvers<ContainerRecord>()
    const start: PendingStart = { kind, labels, agentId: agent.agentId, promise, resolve, reject }
    this.pending.set(uuid, start)
    agent.agent.get({ uuid, kind, labels, extra }).then(
      (started) => this.#completeStart(uuid, start, started, extra),
      (error) => this.#failStart(uuid, start, error),
    )
    return promise
  }

  /** Round-robin over the agents offering `kind`, in registration order. */
  #placeContainer(kind: ContainerKind): AgentEntry<A> {
    const offering = [...this.agentsById.values()].filter((agent) => agent.kinds.has(kind))
    if (offering.length === 0) throw new NoAgentError(`no agent offers kind "${kind}"`)
    const candidates = offering.filter((agent) => !agent.draining)
    if (candidates.length === 0) {
      throw new NoAgentError(`every agent that offers kind "${kind}" is draining`)
    }
    const index = this.nextAgentIndex.get(kind) ?? 0
    this.nextAgentIndex.set(kind, (index + 1) % candidates.length)
    return candidates[index % candidates.length]
  }

  #completeStart(
    uuid: ContainerUuid,
    start: PendingStart,
    started: { uuid: ContainerUuid; endpoint: unknown },
    extra: Record<string, unknown> | undefined,
  ): void {
    const agent = this.agentsById.get(start.agentId)
    if (this.pending.get(uuid) !== start || agent === undefined) {
      if (agent !== undefined) this.#tellToTerminate(agent, uuid)
      return
    }
    this.pending.delete(uuid)
    if (started?.uuid !== uuid) {
      this.#tellToTerminate(agent, uuid)
      return start.reject(new ProtocolError(`agent "${agent.agentId}" started the wrong uuid`))
    }
    let endpoint
    try {
      endpoint = parseEndpointRef(started.endpoint)
    } catch (error) {
      this.#tellToTerminate(agent, uuid)
      return start.reject(
        new ProtocolError(`agent "${agent.agentId}" gave "${uuid}" a bad endpoint`, {
          cause: error,
        }),
      )
    }
    const record: ContainerRecord = {
      uuid,
      kind: start.kind,
      agentId: agent.agentId,
      endpoint,
      labels: start.labels,
      ...(extra === undefined ? {} : { extra }),
    }
    this.#addContainer(agent, record)
    start.resolve(record)
  }

  #failStart(uuid: ContainerUuid, start: PendingStart, error: unknown): void {
    if (this.pending.get(uuid) !== start) return
    this.pending.delete(uuid)
    start.reject(error instanceof Error ? error : new Error(String(error)))
  }

  #setEntry(entry: ContainerEntry): void {
    this.containers.set(entry.record.uuid, entry)
    let uuids = this.#byKind.get(entry.record.kind)
    if (uuids === undefined) this.#byKind.set(entry.record.kind, uuids = new Set())
    uuids.add(entry.record.uuid)
  }

  #deleteEntry(uuid: ContainerUuid): void {
    const entry = this.containers.get(uuid)
    if (entry === undefined) return
    this.containers.delete(uuid)
    // Held requests route again, and find it gone.
    entry.move?.release()
    const uuids = this.#byKind.get(entry.record.kind)
    uuids?.delete(uuid)
    if (uuids?.size === 0) this.#byKind.delete(entry.record.kind)
  }

  #addContainer(agent: AgentEntry<A>, record: ContainerRecord): void {
    const free = !record.stateless && !this.references.isHeld(record.uuid)
    this.#setEntry({ record, unusedSince: free ? this.clock.now() : undefined })
    agent.containers.add(record.uuid)
    this.events.container('added', record)
  }

  /** On re-registration: drops what the agent no longer reports. */
  #dropUnreported(previous: AgentEntry<A>, reported: ContainerRecord[]): void {
    const still = new Set(reported.map((record) => record.uuid))
    for (const uuid of previous.containers) {
      if (!still.has(uuid)) this.#removeContainer(uuid)
    }
    for (const uuid of previous.standby) {
      if (!still.has(uuid)) this.#removeStandby(uuid, previous.agentId)
    }
  }

  /** Takes in one container an agent reports; a stateless duplicate stands by. */
  #adoptReported(agent: AgentEntry<A>, reported: ContainerRecord): 'live' | 'standby' {
    const record = { ...reported, agentId: agent.agentId }
    const live = this.containers.get(record.uuid)
    if (live === undefined) {
      this.#addContainer(agent, record)
      return 'live'
    }
    if (live.record.agentId === agent.agentId) {
      agent.containers.add(record.uuid)
      if (JSON.stringify(live.record) !== JSON.stringify(record)) {
        this.#deleteEntry(record.uuid)
        live.record = record
        this.#setEntry(live)
        this.events.container('updated', record)
      }
      return 'live'
    }
    if (record.stateless) {
      const list = this.standbys.get(record.uuid) ?? []
      this.standbys.set(record.uuid, [...list.filter((s) => s.agentId !== agent.agentId), record])
      agent.standby.add(record.uuid)
      return 'standby'
    }
    // Served elsewhere already: this copy is stale (fencing), so it is stopped.
    logger.warn('agent {agentId} reported {uuid}, which {owner} serves; stopping the copy', {
      agentId: agent.agentId,
      uuid: record.uuid,
      owner: live.record.agentId,
    })
    this.#tellToTerminate(agent, record.uuid)
    return 'standby'
  }

  #removeAgent(agentId: AgentUuid, reason: string): void {
    const agent = this.agentsById.get(agentId)
    if (agent === undefined) return
    this.agentsById.delete(agentId)
    logger.info('agent {agentId} removed ({reason})', { agentId, reason })
    for (const [uuid, start] of [...this.pending]) {
      if (start.agentId !== agentId) continue
      this.pending.delete(uuid)
      start.reject(new AgentLostError(`agent "${agentId}" was ${reason} while starting "${uuid}"`))
    }
    for (const uuid of agent.containers) this.#removeContainer(uuid)
    for (const uuid of agent.standby) this.#removeStandby(uuid, agentId)
    this.events.agent('removed', agentRecord(agent))
  }

  /**
   * Removes a container from the registry (its agent is gone or no longer has it);
   * a stateless one passes to its first live standby, keeping its references.
   */
  #removeContainer(uuid: ContainerUuid): void {
    const entry = this.containers.get(uuid)
    if (entry === undefined) return
    this.#deleteEntry(uuid)
    this.agentsById.get(entry.record.agentId)?.containers.delete(uuid)
    this.events.container('removed', entry.record)
    const successor = this.#takeStandby(uuid)
    if (successor === undefined) {
      this.references.dropContainer(uuid)
      return
    }
    const agent = this.agentsById.get(successor.agentId)!
    agent.standby.delete(uuid)
    this.#addContainer(agent, successor)
    logger.info('stateless container {uuid} taken over by {agentId}', {
      uuid,
      agentId: successor.agentId,
    })
  }

  #takeStandby(uuid: ContainerUuid): ContainerRecord | undefined {
    const list = this.standbys.get(uuid)
    const next = list?.find((record) => this.agentsById.has(record.agentId))
    if (next !== undefined) this.#removeStandby(uuid, next.agentId)
    return next
  }

  #removeStandby(uuid: ContainerUuid, agentId: AgentUuid): void {
    const list = this.standbys.get(uuid)?.filter((record) => record.agentId !== agentId) ?? []
    if (list.length === 0) this.standbys.delete(uuid)
    else this.standbys.set(uuid, list)
  }

  /** An unused container's time is up: remove it and tell its agent. */
  #terminateContainer(uuid: ContainerUuid, entry: ContainerEntry): void {
    this.#deleteEntry(uuid)
    this.references.dropContainer(uuid)
    const agent = this.agentsById.get(entry.record.agentId)
    agent?.containers.delete(uuid)
    this.events.container('removed', entry.record)
    logger.debug('terminating unused container {uuid}', { uuid })
    if (agent !== undefined) this.#tellToTerminate(agent, uuid)
  }

  /** Tells `agent` to terminate `uuid`; nobody waits for it, so a failure is only logged. */
  #tellToTerminate(agent: AgentEntry<A>, uuid: ContainerUuid): void {
    agent.agent.terminate(uuid).catch((error) =>
      logger.warn('agent {agentId} failed to terminate {uuid}: {error}', {
        agentId: agent.agentId,
        uuid,
        error,
      })
    )
  }

  #forgetClient(clientId: ClientUuid, reason: string): void {
    this.clients.delete(clientId)
    for (const uuid of this.references.releaseClient(clientId)) this.#markUnusedIfFree(uuid)
    logger.debug('client {clientId} is {reason}; its references are released', {
      clientId,
      reason,
    })
  }

  /** Starts the unused timer of a container nobody holds (stateless ones never). */
  #markUnusedIfFree(uuid: ContainerUuid): void {
    const entry = this.containers.get(uuid)
    if (entry === undefined || entry.record.stateless || this.references.isHeld(uuid)) return
    entry.unusedSince = this.clock.now()
  }

  /**
   * Moves every container of a draining agent, again for those whose start there
   * was under way when the drain began, until none is left to try.
   */
  async #moveAll(agentId: AgentUuid, deadline: number): Promise<MoveOutcome[]> {
    const outcomes: MoveOutcome[] = []
    const tried = new Set<ContainerUuid>()
    for (;;) {
      const starting = [...this.pending.values()].filter((start) => start.agentId === agentId)
      await Promise.allSettled(starting.map((start) => start.promise))
      const containers = this.agentsById.get(agentId)?.containers ?? new Set()
      const next = [...containers].filter((uuid) => !tried.has(uuid))
      if (next.length === 0) return outcomes
      for (const uuid of next) tried.add(uuid)
      const task = (uuid: ContainerUuid) => this.#move(agentId, uuid, deadline)
      outcomes.push(...await mapLimited(next, MOVES_AT_ONCE, task))
    }
  }

  /** A draining agent's stateless containers pass to their standbys now. */
  #failOverStateless(agent: AgentEntry<A>): number {
    let failedOver = 0
    for (const uuid of [...agent.containers]) {
      const entry = this.containers.get(uuid)
      const standby = this.standbys.get(uuid)?.some((record) => this.agentsById.has(record.agentId))
      if (!entry?.record.stateless || !standby) continue
      const started = this.clock.now()
      this.#removeContainer(uuid)
      const to = this.containers.get(uuid)?.record.agentId
      this.#observeMove(entry.record, agent.agentId, to, 'failed-over', 0, started)
      failedOver++
    }
    for (const uuid of [...agent.standby]) this.#removeStandby(uuid, agent.agentId)
    agent.standby.clear()
    return failedOver
  }

  /** Moves one container off a draining agent (see {@link drain}). */
  async #move(agentId: AgentUuid, uuid: ContainerUuid, deadline: number): Promise<MoveOutcome> {
    const started = this.clock.now()
    const entry = this.containers.get(uuid)
    if (entry === undefined || entry.record.agentId !== agentId) return { outcome: 'gone' }
    const { record } = entry
    const end = (outcome: MoveEvent['outcome'], reason?: string, to?: AgentUuid, bytes = 0) => {
      this.#observeMove(record, agentId, to, outcome, bytes, started, reason)
      return { outcome, reason }
    }
    if (record.stateless) {
      return end('left', `stateless container "${uuid}" has no standby to take over`)
    }
    const target = await this.#moveTarget(record.kind, deadline)
    if (this.containers.get(uuid) !== entry || entry.record.agentId !== agentId) {
      return { outcome: 'gone' }
    }
    if (target === undefined) {
      return end(
        'left',
        `no other agent offers kind "${record.kind}"; its containers stay until the deadline`,
      )
    }
    const move = new HeldRequests(this.clock, this.#heldLimits, (outcome, waitedMs) => {
      for (const observer of this.#moveObservers) observer.held?.(outcome, waitedMs)
    })
    entry.move = move
    try {
      let out: MoveOutResult
      try {
        out = await this.#moveOut(agentId, uuid, deadline)
      } catch (error) {
        // The old copy may still live, so no other starts: it stays where it is.
        const message = error instanceof Error ? error.message : String(error)
        logger.warn('moving {uuid} out of {agentId} failed; it stays there: {message}', {
          uuid,
          agentId,
          message,
        })
        return end('failed', `moving "${uuid}" out of "${agentId}" failed: ${message}`)
      }
      if (this.containers.get(uuid) !== entry) return { outcome: 'gone' }
      // The old copy is gone: only now may a new one start (single activation).
      this.agentsById.get(agentId)?.containers.delete(uuid)
      const failure = await this.#startMoved(entry, target, out.handedOver)
      if (failure !== undefined) return end('failed', failure)
      return end('moved', undefined, target.agentId, out.bytes ?? 0)
    } finally {
      if (entry.move === move) entry.move = undefined
      move.release()
    }
  }

  /** A non-draining agent of `kind`, waiting for one to register until `deadline`. */
  async #moveTarget(kind: ContainerKind, deadline: number): Promise<AgentEntry<A> | undefined> {
    for (;;) {
      try {
        return this.#placeContainer(kind)
      } catch (error) {
        if (!(error instanceof NoAgentError)) throw error
      }
      const left = deadline - this.clock.now()
      if (left <= 0 || this.closed) return undefined
      const { promise, resolve } = Promise.withResolvers<void>()
      this.#recoveryWaiters.push(resolve)
      const cancel = this.clock.schedule(resolve, left)
      await promise
      cancel()
    }
  }

  /** The agent's moveOut (or terminate), cut short at `deadline`. */
  async #moveOut(
    agentId: AgentUuid,
    uuid: ContainerUuid,
    deadline: number,
  ): Promise<MoveOutResult> {
    const agent = this.agentsById.get(agentId)
    if (agent === undefined) throw new AgentLostError(`agent "${agentId}" is gone`)
    const controller = new AbortController()
    const deadlineMs = Math.max(0, deadline - this.clock.now())
    const cancel = this.clock.schedule(
      () => controller.abort(new TimeoutError(`the drain deadline of "${agentId}" passed`)),
      deadlineMs,
    )
    try {
      if (agent.agent.moveOut !== undefined) {
        return await agent.agent.moveOut(uuid, { signal: controller.signal, deadlineMs })
      }
      await agent.agent.terminate(uuid)
      return {}
    } finally {
      cancel()
    }
  }

  /**
   * Starts a moved container on `target` with its state; on failure it leaves the
   * registry (references get it again on next use) and the reason is returned.
   */
  async #startMoved(
    entry: ContainerEntry,
    target: AgentEntry<A>,
    handedOver: unknown,
  ): Promise<string | undefined> {
    const { uuid, kind, labels, extra } = entry.record
    let endpoint
    try {
      const started = await target.agent.get({
        uuid,
        kind,
        labels,
        ...(extra === undefined ? {} : { extra }),
        ...(handedOver === undefined ? {} : { handedOver }),
      })
      if (started?.uuid !== uuid) throw new ProtocolError(`agent started the wrong uuid`)
      endpoint = parseEndpointRef(started.endpoint)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      logger.error('{uuid} left its agent but did not start on {agentId}: {message}', {
        uuid,
        agentId: target.agentId,
        message,
      })
      if (this.containers.get(uuid) === entry) this.#removeContainer(uuid)
      return `"${uuid}" did not start on "${target.agentId}": ${message}`
    }
    if (this.containers.get(uuid) !== entry || this.agentsById.get(target.agentId) !== target) {
      target.agent.terminate(uuid).catch(() => {})
      return `"${uuid}" or agent "${target.agentId}" went away while it started`
    }
    entry.record = { ...entry.record, agentId: target.agentId, endpoint }
    target.containers.add(uuid)
    this.events.container('updated', entry.record)
    return undefined
  }

  #observeMove(
    record: ContainerRecord,
    from: AgentUuid,
    to: AgentUuid | undefined,
    outcome: MoveEvent['outcome'],
    handedOverBytes: number,
    started: number,
    reason?: string,
  ): void {
    const event: MoveEvent = {
      uuid: record.uuid,
      kind: record.kind,
      from,
      ...(to === undefined ? {} : { to }),
      outcome,
      handedOverBytes,
      durationMs: this.clock.now() - started,
      ...(reason === undefined ? {} : { reason }),
    }
    for (const observer of this.#moveObservers) {
      try {
        observer.moved?.(event)
      } catch (error) {
        logger.warn('a move observer failed: {error}', { error })
      }
    }
  }

  #assertOpen(): void {
    if (this.closed) throw new ClosedError('the network is closed')
  }
}

/** Runs `task` over `items`, at most `limit` at once; the results in order. */
async function mapLimited<T, R>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

function containerStatus(
  record: ContainerRecord,
  state: ContainerState,
  references: number,
): ContainerStatus {
  const { uuid, kind, agentId, labels, endpoint, stateless } = record
  return {
    uuid,
    kind,
    agentId,
    labels,
    endpoint,
    state,
    references,
    ...(stateless ? { stateless } : {}),
  }
}

function agentRecord(agent: AgentEntry<NetworkAgent>): AgentRecord {
  return {
    agentId: agent.agentId,
    kinds: [...agent.kinds],
    ...(agent.endpoint === undefined ? {} : { endpoint: agent.endpoint }),
    containers: agent.containers.size,
    ...(agent.draining ? { draining: true } : {}),
  }
}
