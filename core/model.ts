/**
 * The coordinator's model as its servers see it: the network's calls, and what it
 * reports (snapshots, counts, drains, moves).
 *
 * @module
 */
import type { Timeouts } from './timeouts.ts'
import type {
  AgentRecord,
  AgentRegistration,
  AgentUuid,
  ClientUuid,
  ContainerKind,
  ContainerRecord,
  ContainerUuid,
  EndpointRef,
  GetOptions,
  NetworkAgent,
  NetworkEventListener,
  RegisterResult,
} from './types.ts'

/**
 * Options of a drain.
 *
 * @example
 * ```ts
 * import type { DrainOptions } from '@huly/network/core'
 * const options: DrainOptions = { deadlineMs: 30_000 }
 * ```
 */
export interface DrainOptions {
  /** How long the whole drain may take, in milliseconds (`DEFAULT_DRAIN_DEADLINE_MS`). */
  deadlineMs?: number
}

/**
 * How a drain ended.
 *
 * @example
 * ```ts
 * import type { DrainResult } from '@huly/network/core'
 * declare const result: DrainResult
 * if (!result.complete) console.warn(result.reason)
 * ```
 */
export interface DrainResult {
  /** The agent drained. */
  agentId: AgentUuid
  /** Containers started on another agent. */
  moved: number
  /** Containers whose move failed (still on the agent, or gone). */
  failed: number
  /** Containers left on the agent at the deadline (no other agent offered their kind). */
  left: number
  /** Stateless containers handed to their standbys. */
  failedOver: number
  /** How long the drain took, in milliseconds. */
  durationMs: number
  /** Every container moved (nothing failed or left). */
  complete: boolean
  /** Why it is not complete, in words. */
  reason?: string
}

/**
 * Where a container is in its life, as the coordinator sees it: `starting` (its
 * agent is starting it), `live` (someone holds a reference), `unused` (nobody
 * does; it is terminated after `unusedContainerTimeoutMs`), `standby` (a stateless
 * copy waiting for its owner to go).
 *
 * @example
 * ```ts
 * import type { ContainerState } from '@huly/network/core'
 * const state: ContainerState = 'live'
 * ```
 */
export type ContainerState = 'starting' | 'live' | 'unused' | 'standby'

/**
 * A container in a {@link NetworkSnapshot}: its record, state and reference count.
 *
 * @example
 * ```ts
 * import type { ContainerStatus } from '@huly/network/core'
 * declare const status: ContainerStatus
 * console.log(status.uuid, status.state, status.references)
 * ```
 */
export interface ContainerStatus {
  /** Its uuid. */
  uuid: ContainerUuid
  /** Its kind. */
  kind: ContainerKind
  /** The agent serving it (or starting it, or standing by with it). */
  agentId: AgentUuid
  /** Its labels. */
  labels: string[]
  /** Where it is in its life. */
  state: ContainerState
  /** References held on it, by every client. */
  references: number
  /** Its endpoint, once started. */
  endpoint?: EndpointRef
  /** Whether it is a stateless (HA) container. */
  stateless?: boolean
}

/**
 * A client the coordinator knows: connected lately, or holding references.
 *
 * @example
 * ```ts
 * import type { ClientStatus } from '@huly/network/core'
 * declare const client: ClientStatus
 * console.log(client.clientId, client.references)
 * ```
 */
export interface ClientStatus {
  /** Its id. */
  clientId: ClientUuid
  /** When it was last heard from (ms since the epoch), if it is still counted alive. */
  lastSeen?: number
  /** The containers it holds, with the number of references on each. */
  references: Array<{ uuid: ContainerUuid; count: number }>
}

/**
 * How many of each thing the coordinator knows now: what its gauges report,
 * counted without copying any record.
 *
 * @example
 * ```ts
 * import { ManualTickManager, NetworkImpl, type NetworkCounts } from '@huly/network/core'
 * const network = new NetworkImpl(new ManualTickManager())
 * const counts: NetworkCounts = network.counts()
 * console.log(counts.agents, counts.containers)
 * await network.close()
 * ```
 */
export interface NetworkCounts {
  /** Registered agents. */
  agents: number
  /** Of those, agents draining. */
  draining: number
  /** Clients known alive or holding references. */
  clients: number
  /** References held in all. */
  references: number
  /** Containers by kind and state (only the pairs that have some). */
  containers: Array<{ kind: ContainerKind; state: ContainerState; count: number }>
}

/**
 * Everything the coordinator knows at one moment, for dashboards and metrics.
 *
 * @example
 * ```ts
 * import { ManualTickManager, NetworkImpl, type NetworkSnapshot } from '@huly/network/core'
 * const network = new NetworkImpl(new ManualTickManager())
 * const snapshot: NetworkSnapshot = network.snapshot()
 * console.log(snapshot.agents.length, snapshot.references)
 * await network.close()
 * ```
 */
export interface NetworkSnapshot {
  /** Registered agents. */
  agents: AgentRecord[]
  /** Containers: live, unused, starting and standing by. */
  containers: ContainerStatus[]
  /** Clients known alive or holding references. */
  clients: ClientStatus[]
  /** References held in all. */
  references: number
  /** Whether placement is held while agents re-register after a restart. */
  recovering: boolean
}

/**
 * The coordinator: registry, placement, references, liveness and events.
 *
 * @example
 * ```ts
 * import { ManualTickManager, type Network, NetworkImpl } from '@huly/network/core'
 * const network: Network = new NetworkImpl(new ManualTickManager())
 * await network.close()
 * ```
 */
export interface Network {
  /** Registers (or re-registers) an agent. */
  register(registration: AgentRegistration, agent: NetworkAgent): Promise<RegisterResult>
  /** Removes an agent and its containers. */
  unregister(agentId: AgentUuid): Promise<void>
  /** Marks an agent or a client as alive. */
  ping(id: AgentUuid | ClientUuid): void
  /** Gets (reuses or starts) a container and adds one reference of the client to it. */
  get(clientId: ClientUuid, kind: ContainerKind, options?: GetOptions): Promise<ContainerRecord>
  /** Releases one reference of the client; false when the client held none. */
  release(clientId: ClientUuid, uuid: ContainerUuid): Promise<boolean>
  /** Live containers, of one kind or all. */
  list(kind?: ContainerKind): ContainerRecord[]
  /** Sends a request to a container through its agent. */
  request(
    target: ContainerUuid,
    operation: string,
    data: unknown,
    clientId?: ClientUuid,
  ): Promise<unknown>
  /** Registered agents. */
  agents(): AgentRecord[]
  /** Every kind some live agent offers, each once. */
  kinds(): ContainerKind[]
  /** Subscribes to change events; returns the unsubscribe function. */
  subscribe(listener: NetworkEventListener): () => void
  /** Stops the network's timers and fails what is pending. */
  close(): Promise<void>
}

/**
 * What a coordinator server needs of the network model: the {@link Network} calls,
 * and routing, liveness, recovery, drains and the views its metrics and dashboard
 * read. `A` is the type of the agent handles registered with it, which `route`
 * and `agentHandle` give back as they were registered.
 *
 * @example
 * ```ts
 * import { type CoordinatorModel, ManualTickManager, NetworkImpl } from '@huly/network/core'
 * const model: CoordinatorModel = new NetworkImpl(new ManualTickManager())
 * console.log(model.counts().agents) // 0
 * await model.close()
 * ```
 */
export interface CoordinatorModel<A extends NetworkAgent = NetworkAgent>
  extends Omit<Network, 'register'> {
  /** The timings in force, in seconds. */
  readonly timeouts: Readonly<Timeouts>
  /** Whether placement is held while agents re-register after a restart. */
  readonly recovering: boolean
  /** Registers (or re-registers) an agent, served through `agent`. */
  register(registration: AgentRegistration, agent: A): Promise<RegisterResult>
  /** The record of a live container and the handle of the agent that serves it. */
  route(target: ContainerUuid): { record: ContainerRecord; agent: A } | undefined
  /** The handle a registered agent was registered with. */
  agentHandle(agentId: AgentUuid): A | undefined
  /** The handles of every registered agent. */
  agentHandles(): IterableIterator<A>
  /** A client is gone: its references are released now. */
  clientGone(clientId: ClientUuid): void
  /** Holds the placement of new containers for `durationMs` while agents re-register. */
  beginRecovery(durationMs?: number): void
  /** While `target` moves, a request for it waits on the promise returned; else undefined. */
  holdWhileMoving(
    target: ContainerUuid,
    bytes: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> | undefined
  /** Tells `observer` of every move and held request; returns the function that stops it. */
  observeMoves(observer: MoveObserver): () => void
  /** Drains an agent: its containers move to other agents. */
  drain(agentId: AgentUuid, options?: DrainOptions): Promise<DrainResult>
  /** How many agents, clients, references, and containers by kind and state, now. */
  counts(): NetworkCounts
  /** Everything known now. */
  snapshot(): NetworkSnapshot
}

/**
 * How a request held for a moving container ended: sent on to its new place,
 * timed out at its own deadline, or refused at once past the hold limits.
 *
 * @example
 * ```ts
 * import type { HeldRequestOutcome } from '@huly/network/core'
 * const outcome: HeldRequestOutcome = 'released'
 * ```
 */
export type HeldRequestOutcome = 'released' | 'timeout' | 'refused'

/**
 * One container's move during a drain, as {@link MoveObserver.moved} sees it.
 *
 * @example
 * ```ts
 * import type { MoveEvent } from '@huly/network/core'
 * declare const event: MoveEvent
 * console.log(event.uuid, event.from, '->', event.to, event.outcome, event.durationMs)
 * ```
 */
export interface MoveEvent {
  /** The container. */
  uuid: ContainerUuid
  /** Its kind. */
  kind: ContainerKind
  /** The agent it left (or was to leave). */
  from: AgentUuid
  /** The agent it started on, when it moved. */
  to?: AgentUuid
  /**
   * `moved`; `failed` (still on its agent, or gone); `left` on its agent at the
   * deadline; `failed-over` to a standby (stateless).
   */
  outcome: 'moved' | 'failed' | 'left' | 'failed-over'
  /** Encoded bytes of the state it handed over (0 when none, or in process). */
  handedOverBytes: number
  /** From the start of its move to its end, in milliseconds. */
  durationMs: number
  /** Why it did not move, in words. */
  reason?: string
}

/**
 * Receives every move and every held request of a network (metrics use it).
 *
 * @example
 * ```ts
 * import type { MoveObserver } from '@huly/network/core'
 * const observer: MoveObserver = {
 *   moved: (event) => console.log('moved', event.uuid),
 *   held: (outcome, waitedMs) => console.log('held', outcome, waitedMs),
 * }
 * ```
 */
export interface MoveObserver {
  /** A container's move ended. */
  moved?(event: MoveEvent): void
  /** A request held for a moving container went on, timed out or was refused. */
  held?(outcome: HeldRequestOutcome, waitedMs: number): void
}
