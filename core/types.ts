/**
 * Ids, records and interfaces of the network model.
 *
 * @module
 */

/**
 * Unique id of a container.
 *
 * @example
 * ```ts
 * import type { ContainerUuid } from '@huly/network/core'
 * const uuid = 'session-user1' as ContainerUuid
 * ```
 */
export type ContainerUuid = string & { readonly __brand: 'ContainerUuid' }

/**
 * Kind of a container, such as `session` or `transactor`.
 *
 * @example
 * ```ts
 * import type { ContainerKind } from '@huly/network/core'
 * const kind = 'session' as ContainerKind
 * ```
 */
export type ContainerKind = string & { readonly __brand: 'ContainerKind' }

/**
 * Unique id of an agent.
 *
 * @example
 * ```ts
 * import type { AgentUuid } from '@huly/network/core'
 * const agentId = 'agent-1' as AgentUuid
 * ```
 */
export type AgentUuid = string & { readonly __brand: 'AgentUuid' }

/**
 * Unique id of a client of the network.
 *
 * @example
 * ```ts
 * import type { ClientUuid } from '@huly/network/core'
 * const clientId = crypto.randomUUID() as ClientUuid
 * ```
 */
export type ClientUuid = string & { readonly __brand: 'ClientUuid' }

/**
 * How to reach a container: `routed` through its agent's endpoint, `direct` at the
 * container's own endpoint, or `network` when it is only reachable through the
 * network (its agent has no endpoint).
 *
 * @example
 * ```ts
 * import type { EndpointRef } from '@huly/network/core'
 * const ref: EndpointRef = { kind: 'direct', address: 'tcp://127.0.0.1:4000' }
 * ```
 */
export type EndpointRef =
  | {
    readonly kind: 'routed'
    readonly address: string
    readonly agentId: AgentUuid
    /** The CURVE public key of the endpoint, when it encrypts. */
    readonly publicKey?: string
  }
  | {
    readonly kind: 'direct'
    readonly address: string
    /** The CURVE public key of the endpoint, when it encrypts. */
    readonly publicKey?: string
  }
  | { readonly kind: 'network' }

/**
 * Options of a get: a container by uuid, by labels, or by kind alone.
 *
 * @example
 * ```ts
 * import type { GetOptions } from '@huly/network/core'
 * const options: GetOptions = { labels: ['workspace:42'], extra: { region: 'eu' } }
 * ```
 */
export interface GetOptions {
  /** The container's uuid: reuse it when it lives, else start it. */
  uuid?: ContainerUuid
  /** Labels the container must carry (all of them). */
  labels?: string[]
  /** Start parameters passed to the factory when a container is started. */
  extra?: Record<string, unknown>
}

/**
 * What an agent is asked to start: the uuid is always decided by the network.
 *
 * @example
 * ```ts
 * import type { ContainerKind, ContainerUuid, StartOptions } from '@huly/network/core'
 * const options: StartOptions = {
 *   uuid: 'c1' as ContainerUuid,
 *   kind: 'session' as ContainerKind,
 *   labels: [],
 * }
 * ```
 */
export interface StartOptions {
  /** The uuid the new container must have. */
  uuid: ContainerUuid
  /** Its kind. */
  kind: ContainerKind
  /** Its labels. */
  labels: string[]
  /** Start parameters from the get. */
  extra?: Record<string, unknown>
  /**
   * The state the container's previous copy handed over when it moved here (its
   * `handOver()` result); absent when it starts fresh.
   */
  handedOver?: unknown
}

/**
 * The network's record of one live container.
 *
 * @example
 * ```ts
 * import type { AgentUuid, ContainerKind, ContainerRecord, ContainerUuid } from '@huly/network/core'
 * const record: ContainerRecord = {
 *   uuid: 'c1' as ContainerUuid,
 *   kind: 'session' as ContainerKind,
 *   agentId: 'agent-1' as AgentUuid,
 *   endpoint: { kind: 'network' },
 *   labels: [],
 * }
 * ```
 */
export interface ContainerRecord {
  /** The container's uuid. */
  uuid: ContainerUuid
  /** Its kind. */
  kind: ContainerKind
  /** The agent that serves it. */
  agentId: AgentUuid
  /** How to reach it. */
  endpoint: EndpointRef
  /** Its labels. */
  labels: string[]
  /** Start parameters it was created with. */
  extra?: Record<string, unknown>
  /**
   * A "stateless" high-availability container: several agents may declare it, the
   * first one serves it and the others stand by. It lives as long as an agent
   * declares it, whether or not anyone holds it.
   */
  stateless?: boolean
}

/**
 * What an agent tells the network when it registers.
 *
 * @example
 * ```ts
 * import type { AgentRegistration, AgentUuid, ContainerKind } from '@huly/network/core'
 * const registration: AgentRegistration = {
 *   agentId: 'agent-1' as AgentUuid,
 *   kinds: ['session' as ContainerKind],
 *   containers: [],
 * }
 * ```
 */
export interface AgentRegistration {
  /** The agent's uuid. */
  agentId: AgentUuid
  /** Kinds of container its factories start. */
  kinds: ContainerKind[]
  /** Its own endpoint, when clients may reach its containers without the network. */
  endpoint?: string
  /** The containers it hosts now. */
  containers: ContainerRecord[]
}

/**
 * The network's answer to a registration.
 *
 * @example
 * ```ts
 * import type { RegisterResult } from '@huly/network/core'
 * const result: RegisterResult = { standby: [] }
 * ```
 */
export interface RegisterResult {
  /** Stateless containers this agent declared that another agent already serves. */
  standby: ContainerUuid[]
}

/**
 * A registered agent as the network reports it.
 *
 * @example
 * ```ts
 * import type { AgentRecord, AgentUuid } from '@huly/network/core'
 * const record: AgentRecord = { agentId: 'a1' as AgentUuid, kinds: [], containers: 0 }
 * ```
 */
export interface AgentRecord {
  /** The agent's uuid. */
  agentId: AgentUuid
  /** Every kind it offers (its factories' and its declared stateless containers'). */
  kinds: ContainerKind[]
  /** Its endpoint, if it has one. */
  endpoint?: string
  /** How many live containers it serves. */
  containers: number
  /** It is draining: nothing new is placed on it and its containers move away. */
  draining?: boolean
}

/**
 * The kind of a change.
 *
 * @example
 * ```ts
 * import type { ChangeType } from '@huly/network/core'
 * const type: ChangeType = 'added'
 * ```
 */
export type ChangeType = 'added' | 'updated' | 'removed'

/**
 * A batch of changes, in the order they happened.
 *
 * @example
 * ```ts
 * import type { NetworkEvent } from '@huly/network/core'
 * const event: NetworkEvent = { agents: [], containers: [] }
 * ```
 */
export interface NetworkEvent {
  /** Agents added, updated or removed. */
  agents: Array<{ type: ChangeType; agent: AgentRecord }>
  /** Containers added, updated or removed. */
  containers: Array<{ type: ChangeType; container: ContainerRecord }>
}

/**
 * A function that receives network events.
 *
 * @example
 * ```ts
 * import type { NetworkEventListener } from '@huly/network/core'
 * const listener: NetworkEventListener = (event) => {
 *   for (const change of event.containers) console.log(change.type, change.container.uuid)
 * }
 * ```
 */
export type NetworkEventListener = (event: NetworkEvent) => void | Promise<void>

/**
 * A function a container calls to push an event to one connected client.
 *
 * @example
 * ```ts
 * import type { Broadcast } from '@huly/network/core'
 * const send: Broadcast = (data) => console.log('event', data)
 * ```
 */
export type Broadcast = (data: unknown) => void

/**
 * One live service instance. Only `request` is required: a container without
 * `connect` accepts connections but pushes no events, and one without `terminate`
 * has nothing to free.
 *
 * @example
 * ```ts
 * import type { Container } from '@huly/network/core'
 * const echo: Container = {
 *   request: (operation, data) => Promise.resolve({ operation, data }),
 * }
 * ```
 */
export interface Container {
  /** Answers one request. */
  request(operation: string, data: unknown, clientId?: ClientUuid): Promise<unknown>
  /** A client connects: `broadcast` pushes events to it until it disconnects. */
  connect?(clientId: ClientUuid, broadcast: Broadcast): void | Promise<void>
  /** A client disconnects (or died). */
  disconnect?(clientId: ClientUuid): void | Promise<void>
  /** Stops the container and frees what it holds. */
  terminate?(): Promise<void>
  /** Health check. */
  ping?(): void | Promise<void>
  /**
   * Before the container moves to another agent (its agent drains): finish
   * background work. `signal` aborts at the drain deadline. Requests in flight
   * have finished when it is called.
   */
  drain?(signal: AbortSignal): Promise<void>
  /**
   * Before the container moves: the state its next copy starts from (passed to the
   * factory as `options.handedOver`). It must encode (MessagePack) to at most
   * `MAX_HAND_OVER_BYTES`, else it is refused and the next copy starts fresh.
   */
  handOver?(): Promise<unknown>
  /** Called by the agent after the container was terminated. */
  onTerminated?: () => void
}

/**
 * What a factory returns: the started container and, when it has its own, its
 * endpoint (else the agent's routed endpoint, or the network's, is used).
 *
 * @example
 * ```ts
 * import type { Container, ContainerStart, ContainerUuid } from '@huly/network/core'
 * declare const container: Container
 * const start: ContainerStart = { uuid: 'c1' as ContainerUuid, container }
 * ```
 */
export interface ContainerStart {
  /** Must equal the uuid it was asked to start. */
  uuid: ContainerUuid
  /** The instance. */
  container: Container
  /** Its own endpoint, if it binds one. */
  endpoint?: EndpointRef
}

/**
 * Starts containers of one kind on an agent.
 *
 * @example
 * ```ts
 * import type { ContainerFactory } from '@huly/network/core'
 * const factory: ContainerFactory = (options) =>
 *   Promise.resolve({
 *     uuid: options.uuid,
 *     container: {
 *       request: (_op, data) => Promise.resolve(data),
 *     },
 *   })
 * ```
 */
export type ContainerFactory = (
  options: StartOptions,
  agentEndpoint: string | undefined,
) => Promise<ContainerStart>

/**
 * What the network needs of an agent, in process or across a connection.
 *
 * @example
 * ```ts
 * import { AgentImpl, type AgentUuid, type NetworkAgent } from '@huly/network/core'
 * const agent: NetworkAgent = new AgentImpl('agent-1' as AgentUuid, {})
 * ```
 */
export interface NetworkAgent {
  /** The agent's uuid. */
  readonly uuid: AgentUuid
  /** Starts (or returns the live) container with these options. */
  get(options: StartOptions): Promise<{ uuid: ContainerUuid; endpoint: EndpointRef }>
  /** Terminates a container it hosts; unknown uuids are ignored. */
  terminate(uuid: ContainerUuid): Promise<void>
  /** Sends a request to a container it hosts. */
  request(
    uuid: ContainerUuid,
    operation: string,
    data: unknown,
    clientId?: ClientUuid,
  ): Promise<unknown>
  /**
   * Moves a container out: waits for its requests in flight, lets it drain and hand
   * over its state, and terminates it, all by `options.signal`. Resolves once the
   * copy is gone. Without it, a move only terminates.
   */
  moveOut?(uuid: ContainerUuid, options: MoveOutOptions): Promise<MoveOutResult>
}

/**
 * Options of {@link NetworkAgent.moveOut}.
 *
 * @example
 * ```ts
 * import type { MoveOutOptions } from '@huly/network/core'
 * const options: MoveOutOptions = { signal: AbortSignal.timeout(30_000), deadlineMs: 30_000 }
 * ```
 */
export interface MoveOutOptions {
  /** Aborts at the drain deadline: whatever is left is cut short and the move goes on. */
  signal: AbortSignal
  /** Milliseconds left until that deadline (for an agent across the wire). */
  deadlineMs: number
}

/**
 * What {@link NetworkAgent.moveOut} returns.
 *
 * @example
 * ```ts
 * import type { MoveOutResult } from '@huly/network/core'
 * const result: MoveOutResult = { handedOver: { value: 42 }, bytes: 9 }
 * ```
 */
export interface MoveOutResult {
  /** The state the container handed over, passed on to its next start as is. */
  handedOver?: unknown
  /** Its encoded size, when it crossed the wire. */
  bytes?: number
}

// The coordinator model's contract and what it reports live in model.ts; they are
// named here too, so that one import of types.ts gives every type of the model.
export type {
  ClientStatus,
  ContainerState,
  ContainerStatus,
  CoordinatorModel,
  DrainOptions,
  DrainResult,
  HeldRequestOutcome,
  MoveEvent,
  MoveObserver,
  Network,
  NetworkCounts,
  NetworkSnapshot,
} from './model.ts'
