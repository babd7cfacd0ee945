/**
 * The coordinator's model: registry, placement, references, liveness and events.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type { TickManager } from './clock.ts'
import { parseEndpointRef } from './endpoint.ts'
import {
  AgentLostError,
  AgentNotFoundError,
  ClosedError,
  ContainerNotFoundError,
  InvalidArgumentError,
  NoAgentError,
  ProtocolError,
} from './errors.ts'
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
  GetOptions,
  Network,
  NetworkAgent,
  NetworkCounts,
  NetworkEventListener,
  NetworkSnapshot,
  RegisterResult,
} from './types.ts'
import { EventBatcher } from './_events.ts'
import { ReferenceTable } from './_references.ts'
import {
  requireFunction,
  requireId,
  requireLabels,
  requireObject,
  requirePositive,
  requireRecord,
} from './validate.ts'

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
}

interface AgentEntry {
  agent: NetworkAgent
  agentId: AgentUuid
  kinds: Set<ContainerKind>
  endpoint?: string
  lastSeen: number
  containers: Set<ContainerUuid>
  standby: Set<ContainerUuid>
}

interface ContainerEntry {
  record: ContainerRecord
  /** When the last reference was dropped; undefined while someone holds it. */
  unusedSince?: number
}

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
export class NetworkImpl implements Network {
  /** The timings in force, in seconds. */
  readonly timeouts: Readonly<Timeouts>
  private readonly agentsById = new Map<AgentUuid, AgentEntry>()
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
  /** Woken by every registration and when recovery ends. */
  #recoveryWaiters: Array<() => void> = []

  /** Creates a network on `clock`; it checks liveness every `pingInterval`. */
  constructor(private readonly clock: TickManager, options: NetworkOptions = {}) {
    requireFunction(clock?.now, 'clock.now')
    this.timeouts = resolveTimeouts(options.timeouts)
    this.unregisterCheck = clock.register(() => this.#checkLiveness(), this.timeouts.pingInterval)
  }

  /** Registers an agent, or re-registers it with the containers it still has. */
  // deno-lint-ignore require-await -- async so that bad input rejects, never throws
  async register(registration: AgentRegistration, agent: NetworkAgent): Promise<RegisterResult> {
    this.#assertOpen()
    const parsed = parseRegistration(registration)
    requireFunction(agent?.get, 'agent.get')
    requireFunction(agent?.terminate, 'agent.terminate')
    requireFunction(agent?.request, 'agent.request')

    const previous = this.agentsById.get(parsed.agentId)
    const entry: AgentEntry = {
      agent,
      agentId: parsed.agentId,
      kinds: new Set([...parsed.kinds, ...parsed.containers.map((c) => c.kind)]),
      endpoint: parsed.endpoint,
      lastSeen: this.clock.now(),
      containers: new Set(),
      standby: new Set(),
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
    const entry = this.containers.get(target)
    const agent = entry && this.agentsById.get(entry.record.agentId)
    if (agent === undefined) {
      throw new ContainerNotFoundError(`container "${target}" is not live`)
    }
    return await agent.agent.request(target, operation, data, clientId)
  }

  /**
   * Holds the placement of new containers for `seconds` (default `aliveTimeout`):
   * after a coordinator restart, agents re-register what they host within that
   * time, and a get must find those containers rather than start second copies.
   * A server calls it when its first resuming peer arrives.
   */
  beginRecovery(seconds: number = this.timeouts.aliveTimeout): void {
    this.#assertOpen()
    requirePositive(seconds, 'seconds')
    const until = this.clock.now() + seconds * 1000
    if (until <= this.#recoveringUntil) return
    this.#recoveringUntil = until
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
  route(target: ContainerUuid): { record: ContainerRecord; agent: NetworkAgent } | undefined {
    const entry = this.containers.get(target)
    const agent = entry && this.agentsById.get(entry.record.agentId)
    return agent === undefined ? undefined : { record: entry!.record, agent: agent.agent }
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
    return {
      agents: this.agentsById.size,
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
    const unusedMs = this.timeouts.unusedContainerTimeout * 1000
    for (const [uuid, entry] of [...this.containers]) {
      if (entry.unusedSince !== undefined && now - entry.unusedSince >= unusedMs) {
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
  #placeContainer(kind: ContainerKind): AgentEntry {
    const candidates = [...this.agentsById.values()].filter((agent) => agent.kinds.has(kind))
    if (candidates.length === 0) throw new NoAgentError(`no agent offers kind "${kind}"`)
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
    const uuids = this.#byKind.get(entry.record.kind)
    uuids?.delete(uuid)
    if (uuids?.size === 0) this.#byKind.delete(entry.record.kind)
  }

  #addContainer(agent: AgentEntry, record: ContainerRecord): void {
    const free = !record.stateless && !this.references.isHeld(record.uuid)
    this.#setEntry({ record, unusedSince: free ? this.clock.now() : undefined })
    agent.containers.add(record.uuid)
    this.events.container('added', record)
  }

  /** On re-registration: drops what the agent no longer reports. */
  #dropUnreported(previous: AgentEntry, reported: ContainerRecord[]): void {
    const still = new Set(reported.map((record) => record.uuid))
    for (const uuid of previous.containers) {
      if (!still.has(uuid)) this.#removeContainer(uuid)
    }
    for (const uuid of previous.standby) {
      if (!still.has(uuid)) this.#removeStandby(uuid, previous.agentId)
    }
  }

  /** Takes in one container an agent reports; a stateless duplicate stands by. */
  #adoptReported(agent: AgentEntry, reported: ContainerRecord): 'live' | 'standby' {
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
  #tellToTerminate(agent: AgentEntry, uuid: ContainerUuid): void {
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

  #assertOpen(): void {
    if (this.closed) throw new ClosedError('the network is closed')
  }
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

function agentRecord(agent: AgentEntry): AgentRecord {
  return {
    agentId: agent.agentId,
    kinds: [...agent.kinds],
    ...(agent.endpoint === undefined ? {} : { endpoint: agent.endpoint }),
    containers: agent.containers.size,
  }
}

function parseRegistration(value: AgentRegistration): AgentRegistration {
  requireObject(value, 'registration')
  const agentId = requireId<AgentUuid>(value.agentId, 'registration.agentId')
  const kinds = requireLabels(value.kinds, 'registration.kinds') as ContainerKind[]
  const endpoint = value.endpoint === undefined
    ? undefined
    : requireId(value.endpoint, 'registration.endpoint')
  if (!Array.isArray(value.containers)) {
    throw new InvalidArgumentError('registration.containers must be an array of records')
  }
  const containers = value.containers.map((record) => parseContainerRecord(record, agentId))
  return { agentId, kinds, endpoint, containers }
}

function parseContainerRecord(value: ContainerRecord, agentId: AgentUuid): ContainerRecord {
  requireObject(value, 'container record')
  const extra = requireRecord(value.extra, 'container record extra')
  return {
    uuid: requireId(value.uuid, 'container record uuid'),
    kind: requireId(value.kind, 'container record kind'),
    agentId,
    endpoint: parseEndpointRef(value.endpoint),
    labels: requireLabels(value.labels, 'container record labels'),
    ...(extra === undefined ? {} : { extra }),
    ...(value.stateless === true ? { stateless: true } : {}),
  }
}
