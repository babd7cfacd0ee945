// The network's registry: agents, containers (live, starting and standing by),
// clients and their references, and the changes it publishes. NetworkImpl and its
// parts (placement, drains, reports) read and change the model through it.
import { getLogger } from '@logtape/logtape'
import type { TickManager } from '../common/clock.ts'
import { AgentLostError, ClosedError, NoAgentError } from '../common/errors.ts'
import { EventBatcher } from './_events.ts'
import type { HeldRequests } from './_held_requests.ts'
import { ReferenceTable } from './_references.ts'
import type {
  AgentRecord,
  AgentUuid,
  ClientUuid,
  ContainerKind,
  ContainerRecord,
  ContainerUuid,
  NetworkAgent,
} from './types.ts'

const logger = getLogger(['huly-network', 'core', 'network'])

/** A registered agent. */
export interface AgentEntry<A extends NetworkAgent> {
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

/** A live container. */
export interface ContainerEntry {
  record: ContainerRecord
  /** When the last reference was dropped; undefined while someone holds it. */
  unusedSince?: number
  /** While it moves to another agent: the requests held for it. */
  move?: HeldRequests
}

/** A container its agent is starting. */
export interface PendingStart {
  kind: ContainerKind
  labels: string[]
  agentId: AgentUuid
  promise: Promise<ContainerRecord>
  resolve: (record: ContainerRecord) => void
  reject: (error: Error) => void
}

/** The model's state, and the changes every part of the network makes to it. */
export class Registry<A extends NetworkAgent> {
  readonly agentsById = new Map<AgentUuid, AgentEntry<A>>()
  readonly containers = new Map<ContainerUuid, ContainerEntry>()
  /** Live container uuids by kind, so a get by kind or labels looks at one kind only. */
  readonly byKind = new Map<ContainerKind, Set<ContainerUuid>>()
  readonly pending = new Map<ContainerUuid, PendingStart>()
  /** Clients by when they were last seen. */
  readonly clients = new Map<ClientUuid, number>()
  /** Standby instances of stateless containers, in the order they were declared. */
  readonly standbys = new Map<ContainerUuid, ContainerRecord[]>()
  readonly references = new ReferenceTable()
  readonly events = new EventBatcher()
  readonly #nextAgentIndex = new Map<ContainerKind, number>()
  closed = false
  /** Until when new containers wait for agents to re-register (see beginRecovery). */
  recoveringUntil = 0
  /** Woken by every registration and when recovery ends. */
  waiters: Array<() => void> = []

  constructor(readonly clock: TickManager) {}

  /** Whether placement is held for recovery now. */
  get recovering(): boolean {
    return this.clock.now() < this.recoveringUntil
  }

  /** Resolves at the next registration, or when recovery ends. */
  waitForRecovery(): Promise<void> {
    if (!this.recovering) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Wakes whoever waits for an agent to register or for recovery to end. */
  wakeRecoveryWaiters(): void {
    for (const wake of this.waiters.splice(0)) wake()
  }

  /** Puts a live container in the registry, indexed by kind. */
  setEntry(entry: ContainerEntry): void {
    this.containers.set(entry.record.uuid, entry)
    let uuids = this.byKind.get(entry.record.kind)
    if (uuids === undefined) this.byKind.set(entry.record.kind, uuids = new Set())
    uuids.add(entry.record.uuid)
  }

  /** Takes a live container out of the registry and its kind's index. */
  deleteEntry(uuid: ContainerUuid): void {
    const entry = this.containers.get(uuid)
    if (entry === undefined) return
    this.containers.delete(uuid)
    // Held requests route again, and find it gone.
    entry.move?.release()
    const uuids = this.byKind.get(entry.record.kind)
    uuids?.delete(uuid)
    if (uuids?.size === 0) this.byKind.delete(entry.record.kind)
  }

  /** A container now lives on `agent`; nobody holding it, its unused time starts. */
  addContainer(agent: AgentEntry<A>, record: ContainerRecord): void {
    const free = !record.stateless && !this.references.isHeld(record.uuid)
    this.setEntry({ record, unusedSince: free ? this.clock.now() : undefined })
    agent.containers.add(record.uuid)
    this.events.container('added', record)
  }

  /** On re-registration: drops what the agent no longer reports. */
  dropUnreported(previous: AgentEntry<A>, reported: ContainerRecord[]): void {
    const still = new Set(reported.map((record) => record.uuid))
    for (const uuid of previous.containers) {
      if (!still.has(uuid)) this.removeContainer(uuid)
    }
    for (const uuid of previous.standby) {
      if (!still.has(uuid)) this.removeStandby(uuid, previous.agentId)
    }
  }

  /** Takes in one container an agent reports; a stateless duplicate stands by. */
  adoptReported(agent: AgentEntry<A>, reported: ContainerRecord): 'live' | 'standby' {
    const record = { ...reported, agentId: agent.agentId }
    const live = this.containers.get(record.uuid)
    if (live === undefined) {
      this.addContainer(agent, record)
      return 'live'
    }
    if (live.record.agentId === agent.agentId) {
      agent.containers.add(record.uuid)
      if (JSON.stringify(live.record) !== JSON.stringify(record)) {
        this.deleteEntry(record.uuid)
        live.record = record
        this.setEntry(live)
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
    this.tellToTerminate(agent, record.uuid)
    return 'standby'
  }

  removeAgent(agentId: AgentUuid, reason: string): void {
    const agent = this.agentsById.get(agentId)
    if (agent === undefined) return
    this.agentsById.delete(agentId)
    logger.info('agent {agentId} removed ({reason})', { agentId, reason })
    for (const [uuid, start] of [...this.pending]) {
      if (start.agentId !== agentId) continue
      this.pending.delete(uuid)
      start.reject(new AgentLostError(`agent "${agentId}" was ${reason} while starting "${uuid}"`))
    }
    for (const uuid of agent.containers) this.removeContainer(uuid)
    for (const uuid of agent.standby) this.removeStandby(uuid, agentId)
    this.events.agent('removed', agentRecord(agent))
  }

  /**
   * Removes a container from the registry (its agent is gone or no longer has it);
   * a stateless one passes to its first live standby, keeping its references.
   */
  removeContainer(uuid: ContainerUuid): void {
    const entry = this.containers.get(uuid)
    if (entry === undefined) return
    this.deleteEntry(uuid)
    this.agentsById.get(entry.record.agentId)?.containers.delete(uuid)
    this.events.container('removed', entry.record)
    const successor = this.takeStandby(uuid)
    if (successor === undefined) {
      this.references.dropContainer(uuid)
      return
    }
    const agent = this.agentsById.get(successor.agentId)!
    agent.standby.delete(uuid)
    this.addContainer(agent, successor)
    logger.info('stateless container {uuid} taken over by {agentId}', {
      uuid,
      agentId: successor.agentId,
    })
  }

  takeStandby(uuid: ContainerUuid): ContainerRecord | undefined {
    const list = this.standbys.get(uuid)
    const next = list?.find((record) => this.agentsById.has(record.agentId))
    if (next !== undefined) this.removeStandby(uuid, next.agentId)
    return next
  }

  removeStandby(uuid: ContainerUuid, agentId: AgentUuid): void {
    const list = this.standbys.get(uuid)?.filter((record) => record.agentId !== agentId) ?? []
    if (list.length === 0) this.standbys.delete(uuid)
    else this.standbys.set(uuid, list)
  }

  /** An unused container's time is up: remove it and tell its agent. */
  terminateContainer(uuid: ContainerUuid, entry: ContainerEntry): void {
    this.deleteEntry(uuid)
    this.references.dropContainer(uuid)
    const agent = this.agentsById.get(entry.record.agentId)
    agent?.containers.delete(uuid)
    this.events.container('removed', entry.record)
    logger.debug('terminating unused container {uuid}', { uuid })
    if (agent !== undefined) this.tellToTerminate(agent, uuid)
  }

  /** Tells `agent` to terminate `uuid`; nobody waits for it, so a failure is only logged. */
  tellToTerminate(agent: AgentEntry<A>, uuid: ContainerUuid): void {
    agent.agent.terminate(uuid).catch((error) =>
      logger.warn('agent {agentId} failed to terminate {uuid}: {error}', {
        agentId: agent.agentId,
        uuid,
        error,
      })
    )
  }

  forgetClient(clientId: ClientUuid, reason: string): void {
    this.clients.delete(clientId)
    for (const uuid of this.references.releaseClient(clientId)) this.markUnusedIfFree(uuid)
    logger.debug('client {clientId} is {reason}; its references are released', {
      clientId,
      reason,
    })
  }

  /** Starts the unused timer of a container nobody holds (stateless ones never). */
  markUnusedIfFree(uuid: ContainerUuid): void {
    const entry = this.containers.get(uuid)
    if (entry === undefined || entry.record.stateless || this.references.isHeld(uuid)) return
    entry.unusedSince = this.clock.now()
  }

  /** Round-robin over the agents offering `kind`, in registration order. */
  placeContainer(kind: ContainerKind): AgentEntry<A> {
    const offering = [...this.agentsById.values()].filter((agent) => agent.kinds.has(kind))
    if (offering.length === 0) throw new NoAgentError(`no agent offers kind "${kind}"`)
    const candidates = offering.filter((agent) => !agent.draining)
    if (candidates.length === 0) {
      throw new NoAgentError(`every agent that offers kind "${kind}" is draining`)
    }
    const index = this.#nextAgentIndex.get(kind) ?? 0
    this.#nextAgentIndex.set(kind, (index + 1) % candidates.length)
    return candidates[index % candidates.length]
  }

  assertOpen(): void {
    if (this.closed) throw new ClosedError('the network is closed')
  }
}

/** What the network reports of an agent. */
export function agentRecord(agent: AgentEntry<NetworkAgent>): AgentRecord {
  return {
    agentId: agent.agentId,
    kinds: [...agent.kinds],
    ...(agent.endpoint === undefined ? {} : { endpoint: agent.endpoint }),
    containers: agent.containers.size,
    ...(agent.draining ? { draining: true } : {}),
  }
}
