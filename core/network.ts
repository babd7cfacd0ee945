/**
 * The coordinator's model: registry, placement, references, liveness and events.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type { TickManager } from '../common/clock.ts'
import {
  AgentLostError,
  AgentNotFoundError,
  ClosedError,
  ContainerNotFoundError,
} from '../common/errors.ts'
import {
  requireFunction,
  requireId,
  requireLabels,
  requireObject,
  requirePositive,
  requireRecord,
} from '../common/validate.ts'
import { HELD_REQUEST_LIMITS } from './drain.ts'
import { Drains } from './_drain.ts'
import { Placement } from './_placement.ts'
import { type AgentEntry, agentRecord, Registry } from './_registry.ts'
import { countsOf, snapshotOf } from './_report.ts'
import { requireRegistration } from './operations.ts'
import { resolveTimeouts, type Timeouts } from './timeouts.ts'
import type {
  AgentRecord,
  AgentRegistration,
  AgentUuid,
  ClientUuid,
  ContainerKind,
  ContainerRecord,
  ContainerUuid,
  CoordinatorModel,
  DrainOptions,
  DrainResult,
  GetOptions,
  MoveObserver,
  Network,
  NetworkAgent,
  NetworkCounts,
  NetworkEventListener,
  NetworkSnapshot,
  RegisterResult,
} from './types.ts'

const logger = getLogger(['huly-network', 'core', 'network'])

/**
 * Options of {@link NetworkImpl}.
 *
 * @example
 * ```ts
 * import type { NetworkOptions } from '@huly/network/core'
 * const options: NetworkOptions = { timeouts: { aliveTimeoutMs: 5_000 } }
 * ```
 */
export interface NetworkOptions {
  /** Timings in seconds; missing ones take the defaults of `timeouts`. */
  timeouts?: Partial<Timeouts>
  /** Bounds of the requests held for one moving container (`HELD_REQUEST_LIMITS`). */
  heldRequests?: { count: number; bytes: number }
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
  readonly #registry: Registry<A>
  readonly #placement: Placement<A>
  readonly #drains: Drains<A>
  readonly #unregisterCheck: () => void
  /**
   * Until when no container is terminated as unused (see beginRecovery): the clients
   * of the containers agents re-register come back and take them again by then.
   */
  #keepUnusedUntil = 0

  /** Creates a network on `clock`; it checks liveness every `pingIntervalMs`. */
  constructor(clock: TickManager, options: NetworkOptions = {}) {
    requireFunction(clock?.now, 'clock.now')
    this.timeouts = resolveTimeouts(options.timeouts)
    const heldLimits = { ...(options.heldRequests ?? HELD_REQUEST_LIMITS) }
    requirePositive(heldLimits.count, 'heldRequests.count')
    requirePositive(heldLimits.bytes, 'heldRequests.bytes')
    this.#registry = new Registry(clock)
    this.#placement = new Placement(this.#registry)
    this.#drains = new Drains(this.#registry, heldLimits)
    this.#unregisterCheck = clock.every(
      () => this.#checkLiveness(),
      this.timeouts.pingIntervalMs,
    )
  }

  /** Registers an agent, or re-registers it with the containers it still has. */
  // deno-lint-ignore require-await -- async so that bad input rejects, never throws
  async register(registration: AgentRegistration, agent: A): Promise<RegisterResult> {
    this.#assertOpen()
    const parsed = requireRegistration(registration)
    requireFunction(agent?.get, 'agent.get')
    requireFunction(agent?.terminate, 'agent.terminate')
    requireFunction(agent?.request, 'agent.request')

    const previous = this.#registry.agentsById.get(parsed.agentId)
    const entry: AgentEntry<A> = {
      agent,
      agentId: parsed.agentId,
      kinds: new Set([...parsed.kinds, ...parsed.containers.map((c) => c.kind)]),
      endpoint: parsed.endpoint,
      lastSeen: this.#registry.clock.now(),
      containers: new Set(),
      standby: new Set(),
      draining: previous?.draining ?? false,
    }
    this.#registry.agentsById.set(parsed.agentId, entry)
    if (previous !== undefined) this.#registry.dropUnreported(previous, parsed.containers)

    const standby: ContainerUuid[] = []
    for (const record of parsed.containers) {
      if (this.#registry.adoptReported(entry, record) === 'standby') standby.push(record.uuid)
    }
    this.#registry.events.agent(previous === undefined ? 'added' : 'updated', agentRecord(entry))
    this.#registry.wakeRecoveryWaiters()
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
    if (!this.#registry.agentsById.has(agentId)) {
      throw new AgentNotFoundError(`agent "${agentId}" is not registered`)
    }
    this.#registry.removeAgent(agentId, 'unregistered')
  }

  /** Marks an agent or a client as alive (an unknown id is taken for a client). */
  ping(id: AgentUuid | ClientUuid): void {
    this.#assertOpen()
    requireId(id, 'id')
    const agent = this.#registry.agentsById.get(id as AgentUuid)
    if (agent !== undefined) agent.lastSeen = this.#registry.clock.now()
    else this.#registry.clients.set(id as ClientUuid, this.#registry.clock.now())
  }

  /**
   * A client is gone (its connection closed or fell silent): its references are
   * released now, as they would be after `aliveTimeoutMs` without pings.
   */
  clientGone(clientId: ClientUuid): void {
    this.#assertOpen()
    requireId(clientId, 'clientId')
    if (this.#registry.clients.has(clientId) || this.#registry.references.holdsAny(clientId)) {
      this.#registry.forgetClient(clientId, 'gone')
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

    this.#registry.clients.set(clientId, this.#registry.clock.now())
    const record = await this.#placement.findOrStart(kind, uuid, labels, extra)
    const entry = this.#registry.containers.get(record.uuid)
    if (entry === undefined) {
      throw new AgentLostError(`container "${record.uuid}" was removed before it could be held`)
    }
    this.#registry.references.acquire(clientId, record.uuid)
    entry.unusedSince = undefined
    return { ...entry.record }
  }

  /** Drops one reference of `clientId` to `uuid`; false when it held none. */
  // deno-lint-ignore require-await -- async so that bad input rejects, never throws
  async release(clientId: ClientUuid, uuid: ContainerUuid): Promise<boolean> {
    this.#assertOpen()
    requireId(clientId, 'clientId')
    requireId(uuid, 'uuid')
    if (!this.#registry.references.release(clientId, uuid)) return false
    this.#registry.markUnusedIfFree(uuid)
    return true
  }

  /** Live containers, of one kind or all. */
  list(kind?: ContainerKind): ContainerRecord[] {
    this.#assertOpen()
    if (kind !== undefined) requireId(kind, 'kind')
    const uuids = kind === undefined
      ? this.#registry.containers.keys()
      : this.#registry.byKind.get(kind) ?? []
    return [...uuids].map((uuid) => ({ ...this.#registry.containers.get(uuid)!.record }))
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
    await this.holdWhileMoving(target, 0, this.timeouts.requestTimeoutMs)
    const entry = this.#registry.containers.get(target)
    const agent = entry && this.#registry.agentsById.get(entry.record.agentId)
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
    return this.#registry.containers.get(target)?.move?.hold(target, bytes, timeoutMs, signal)
  }

  /** Tells `observer` of every move and held request; returns the function that stops it. */
  observeMoves(observer: MoveObserver): () => void {
    return this.#drains.observeMoves(observer)
  }

  /**
   * Drains an agent: nothing new is placed on it, its stateless containers pass to
   * their standbys, and each other container moves to another agent of its kind:
   * requests for it are held, the agent finishes those in flight, lets it hand over
   * its state and terminates it, and only then is it started elsewhere (same uuid,
   * kind, labels, extra) and the held requests sent there in order. With no other
   * agent of a kind, its containers wait for one until the deadline and are left.
   */
  drain(agentId: AgentUuid, options: DrainOptions = {}): Promise<DrainResult> {
    return this.#drains.drain(agentId, options)
  }

  /**
   * Holds the placement of new containers for `durationMs` (default `aliveTimeoutMs`):
   * after a coordinator restart, agents re-register what they host within that
   * time, and a get must find those containers rather than start second copies.
   * Until `aliveTimeoutMs` after that, no container is terminated as unused: the
   * clients of the re-registered ones take them again by then. A server calls it
   * when its first resuming peer arrives.
   */
  beginRecovery(durationMs: number = this.timeouts.aliveTimeoutMs): void {
    this.#assertOpen()
    requirePositive(durationMs, 'durationMs')
    const until = this.#registry.clock.now() + durationMs
    if (until <= this.#registry.recoveringUntil) return
    this.#registry.recoveringUntil = until
    // A client that held a container may notice the restart only at its alive timeout
    // (it missed the bye), and takes its references again then: a container an agent
    // re-registered meanwhile holds none yet, and must not be terminated as unused
    // (its state lost, and a second instance started when the client is back).
    this.#keepUnusedUntil = until + this.timeouts.aliveTimeoutMs
    this.#registry.clock.schedule(() => this.#registry.wakeRecoveryWaiters(), durationMs)
    logger.info('recovering: new containers wait {durationMs} ms for agents to re-register', {
      durationMs,
    })
  }

  /** Whether placement is held for recovery now. */
  get recovering(): boolean {
    return this.#registry.recovering
  }

  /** Resolves at the next registration, or when recovery ends. */
  waitForRecovery(): Promise<void> {
    return this.#registry.waitForRecovery()
  }

  /**
   * The record of a live container and the agent that serves it: the forwarding
   * step of a server that passes requests on without decoding them.
   */
  route(target: ContainerUuid): { record: ContainerRecord; agent: A } | undefined {
    const entry = this.#registry.containers.get(target)
    const agent = entry && this.#registry.agentsById.get(entry.record.agentId)
    return agent === undefined ? undefined : { record: entry!.record, agent: agent.agent }
  }

  /** The handle a registered agent was registered with. */
  agentHandle(agentId: AgentUuid): A | undefined {
    return this.#registry.agentsById.get(agentId)?.agent
  }

  /** The handles of every registered agent. */
  *agentHandles(): IterableIterator<A> {
    for (const entry of this.#registry.agentsById.values()) yield entry.agent
  }

  /** Registered agents with their kinds, endpoint and live container count. */
  agents(): AgentRecord[] {
    this.#assertOpen()
    return [...this.#registry.agentsById.values()].map(agentRecord)
  }

  /** Every kind some registered agent offers, each once. */
  kinds(): ContainerKind[] {
    this.#assertOpen()
    const kinds = new Set<ContainerKind>()
    for (const agent of this.#registry.agentsById.values()) {
      for (const kind of agent.kinds) kinds.add(kind)
    }
    return [...kinds]
  }

  /** How many agents, clients, references, and containers by kind and state, now. */
  counts(): NetworkCounts {
    this.#assertOpen()
    return countsOf(this.#registry)
  }

  /** Everything known now: agents, containers with state and references, clients. */
  snapshot(): NetworkSnapshot {
    this.#assertOpen()
    return snapshotOf(this.#registry)
  }

  /** Subscribes to change events, delivered in order one turn after they happen. */
  subscribe(listener: NetworkEventListener): () => void {
    this.#assertOpen()
    requireFunction(listener, 'listener')
    return this.#registry.events.subscribe(listener)
  }

  /** Stops the liveness check and fails every pending start with `ClosedError`. */
  close(): Promise<void> {
    if (this.#registry.closed) return Promise.resolve()
    this.#registry.closed = true
    this.#unregisterCheck()
    for (const [uuid, start] of this.#registry.pending) {
      start.reject(new ClosedError(`the network closed while "${uuid}" was starting`))
    }
    this.#registry.pending.clear()
    this.#registry.events.clear()
    this.#registry.wakeRecoveryWaiters()
    return Promise.resolve()
  }

  /** Runs once per `pingIntervalMs`: removes silent peers and unused containers. */
  #checkLiveness(): void {
    const now = this.#registry.clock.now()
    const aliveMs = this.timeouts.aliveTimeoutMs
    for (const [clientId, lastSeen] of this.#registry.clients) {
      if (now - lastSeen > aliveMs) this.#registry.forgetClient(clientId, 'silent')
    }
    for (const agent of [...this.#registry.agentsById.values()]) {
      if (now - agent.lastSeen > aliveMs) this.#registry.removeAgent(agent.agentId, 'silent')
    }
    // After a restart the containers agents re-register wait for their clients.
    if (now < this.#keepUnusedUntil) return
    const unusedMs = this.timeouts.unusedContainerTimeoutMs
    for (const [uuid, entry] of [...this.#registry.containers]) {
      if (
        entry.unusedSince !== undefined && entry.move === undefined &&
        now - entry.unusedSince >= unusedMs
      ) {
        this.#registry.terminateContainer(uuid, entry)
      }
    }
  }

  #assertOpen(): void {
    this.#registry.assertOpen()
  }
}
