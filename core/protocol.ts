/**
 * The operations the coordinator, its clients, agents and agent endpoints speak,
 * with the shapes of their parameters: one module that the server and the client
 * share.
 *
 * @module
 */
import type {
  AgentRegistration,
  AgentUuid,
  ClientUuid,
  ContainerKind,
  ContainerUuid,
  GetOptions,
  StartOptions,
} from './types.ts'

/**
 * Operations a client sends to the coordinator.
 *
 * @example
 * ```ts
 * import { NetworkOperation } from '@huly/network/internal'
 * console.log(NetworkOperation.get) // network.get
 * ```
 */
export const NetworkOperation = {
  /** {@link RegisterParams} → `RegisterResult` */
  register: 'network.register',
  /** {@link AgentParams} → `null` */
  unregister: 'network.unregister',
  /** {@link GetParams} → `ContainerRecord` */
  get: 'network.get',
  /** {@link ContainerParams} → `boolean` */
  release: 'network.release',
  /** {@link ListParams} → `ContainerRecord[]` */
  list: 'network.list',
  /** `null` → `AgentRecord[]` */
  agents: 'network.agents',
  /** `null` → `ContainerKind[]` */
  kinds: 'network.kinds',
  /** meta {@link RouteMeta}, body: the request data, forwarded undecoded → the answer */
  request: 'network.request',
  /** {@link ContainerParams}: connect to a container's events through the network */
  connect: 'network.connect',
  /** {@link ContainerParams} */
  disconnect: 'network.disconnect',
  /** {@link IdentifyParams} → `PeerGrant | null`: who a public key is (agents and admins ask) */
  identify: 'network.identify',
  /**
   * {@link DrainParams} → `DrainResult`: the agent is draining; its containers move
   * to other agents. Only the connection that registered it may ask.
   */
  drain: 'network.drain',
} as const

/**
 * Operations the coordinator sends to the client that serves an agent.
 *
 * @example
 * ```ts
 * import { AgentOperation } from '@huly/network/internal'
 * console.log(AgentOperation.start) // agent.start
 * ```
 */
export const AgentOperation = {
  /** {@link AgentStartParams} → `{ uuid, endpoint }` */
  start: 'agent.start',
  /** {@link AgentContainerParams} → `null` */
  terminate: 'agent.terminate',
  /** meta {@link AgentRouteMeta}, body: the request data → the answer */
  request: 'agent.request',
  /** {@link AgentConnectParams} → `null` */
  connect: 'agent.connect',
  /** {@link AgentConnectParams} → `null` */
  disconnect: 'agent.disconnect',
  /** {@link AgentMoveOutParams} → {@link AgentMoveOutReply}: the container leaves this agent */
  moveOut: 'agent.moveOut',
} as const

/**
 * Operations a client sends straight to an agent's own endpoint.
 *
 * @example
 * ```ts
 * import { ContainerOperation } from '@huly/network/internal'
 * console.log(ContainerOperation.request) // container.request
 * ```
 */
export const ContainerOperation = {
  /** meta {@link RouteMeta}, body: the request data → the answer */
  request: 'container.request',
  /** {@link ContainerParams} → `null` */
  connect: 'container.connect',
  /** {@link ContainerParams} → `null` */
  disconnect: 'container.disconnect',
} as const

/**
 * Event topics.
 *
 * @example
 * ```ts
 * import { EventTopic } from '@huly/network/internal'
 * console.log(EventTopic.network) // network.event
 * ```
 */
export const EventTopic = {
  /** A `NetworkEvent`, from the coordinator to every client. */
  network: 'network.event',
  /** A container's broadcast; meta {@link ContainerEventMeta}. */
  container: 'container.event',
  /** {@link RevokedParams}, from the coordinator to agents: forget these keys now. */
  revoked: 'network.revoked',
} as const

/**
 * Parameters of `network.register`.
 *
 * @example
 * ```ts
 * import type { AgentUuid } from '@huly/network/core'
 * import type { RegisterParams } from '@huly/network/internal'
 * const params: RegisterParams = {
 *   registration: { agentId: 'a1' as AgentUuid, kinds: [], containers: [] },
 * }
 * ```
 */
export interface RegisterParams {
  /** The agent's registration. */
  registration: AgentRegistration
}

/**
 * Parameters naming one agent.
 *
 * @example
 * ```ts
 * import type { AgentUuid } from '@huly/network/core'
 * import type { AgentParams } from '@huly/network/internal'
 * const params: AgentParams = { agentId: 'a1' as AgentUuid }
 * ```
 */
export interface AgentParams {
  /** The agent. */
  agentId: AgentUuid
}

/**
 * Parameters of `network.get`.
 *
 * @example
 * ```ts
 * import type { ContainerKind } from '@huly/network/core'
 * import type { GetParams } from '@huly/network/internal'
 * const params: GetParams = { kind: 'session' as ContainerKind, options: { labels: ['ws:1'] } }
 * ```
 */
export interface GetParams {
  /** The container kind. */
  kind: ContainerKind
  /** uuid, labels and start parameters. */
  options: GetOptions
}

/**
 * Parameters naming one container.
 *
 * @example
 * ```ts
 * import type { ContainerUuid } from '@huly/network/core'
 * import type { ContainerParams } from '@huly/network/internal'
 * const params: ContainerParams = { uuid: 'c1' as ContainerUuid }
 * ```
 */
export interface ContainerParams {
  /** The container. */
  uuid: ContainerUuid
}

/**
 * Parameters of `network.list`.
 *
 * @example
 * ```ts
 * import type { ListParams } from '@huly/network/internal'
 * const params: ListParams = {}
 * ```
 */
export interface ListParams {
  /** Only containers of this kind. */
  kind?: ContainerKind
}

/**
 * Header data of a routed request: where it goes. The body is never decoded on the
 * way.
 *
 * @example
 * ```ts
 * import type { ContainerUuid } from '@huly/network/core'
 * import type { RouteMeta } from '@huly/network/internal'
 * const meta: RouteMeta = { target: 'c1' as ContainerUuid, operation: 'echo' }
 * ```
 */
export interface RouteMeta {
  /** The container. */
  target: ContainerUuid
  /** The container's operation. */
  operation: string
}

/**
 * Header data of a request the coordinator forwards to an agent.
 *
 * @example
 * ```ts
 * import type { AgentUuid, ClientUuid, ContainerUuid } from '@huly/network/core'
 * import type { AgentRouteMeta } from '@huly/network/internal'
 * const meta: AgentRouteMeta = {
 *   agentId: 'a1' as AgentUuid,
 *   target: 'c1' as ContainerUuid,
 *   operation: 'echo',
 *   clientId: 'client-1' as ClientUuid,
 * }
 * ```
 */
export interface AgentRouteMeta extends RouteMeta {
  /** The agent that hosts the target. */
  agentId: AgentUuid
  /** The client that asked. */
  clientId?: ClientUuid
}

/**
 * Parameters of `agent.start`.
 *
 * @example
 * ```ts
 * import type { AgentUuid, ContainerKind, ContainerUuid } from '@huly/network/core'
 * import type { AgentStartParams } from '@huly/network/internal'
 * const params: AgentStartParams = {
 *   agentId: 'a1' as AgentUuid,
 *   options: { uuid: 'c1' as ContainerUuid, kind: 'echo' as ContainerKind, labels: [] },
 * }
 * ```
 */
export interface AgentStartParams {
  /** The agent. */
  agentId: AgentUuid
  /** What to start (without `handedOver`, which travels encoded in `state`). */
  options: StartOptions
  /** The state handed over by the container's previous copy, MessagePack-encoded. */
  state?: Uint8Array
}

/**
 * Parameters of `network.drain`.
 *
 * @example
 * ```ts
 * import type { AgentUuid } from '@huly/network/core'
 * import type { DrainParams } from '@huly/network/internal'
 * const params: DrainParams = { agentId: 'a1' as AgentUuid, deadlineMs: 30_000 }
 * ```
 */
export interface DrainParams {
  /** The agent that drains. */
  agentId: AgentUuid
  /** How long the drain may take, in milliseconds. */
  deadlineMs?: number
}

/**
 * Parameters of `agent.moveOut`.
 *
 * @example
 * ```ts
 * import type { AgentUuid, ContainerUuid } from '@huly/network/core'
 * import type { AgentMoveOutParams } from '@huly/network/internal'
 * const params: AgentMoveOutParams = {
 *   agentId: 'a1' as AgentUuid,
 *   uuid: 'c1' as ContainerUuid,
 *   deadlineMs: 30_000,
 * }
 * ```
 */
export interface AgentMoveOutParams extends AgentContainerParams {
  /** Milliseconds left before the drain deadline, when what is left is cut short. */
  deadlineMs: number
}

/**
 * The answer to `agent.moveOut`: the container no longer serves.
 *
 * @example
 * ```ts
 * import type { AgentMoveOutReply } from '@huly/network/internal'
 * const reply: AgentMoveOutReply = { state: new Uint8Array([42]) }
 * ```
 */
export interface AgentMoveOutReply {
  /** The state it handed over, MessagePack-encoded; absent when none (or refused). */
  state?: Uint8Array
}

/**
 * Parameters naming a container on an agent.
 *
 * @example
 * ```ts
 * import type { AgentUuid, ContainerUuid } from '@huly/network/core'
 * import type { AgentContainerParams } from '@huly/network/internal'
 * const params: AgentContainerParams = { agentId: 'a1' as AgentUuid, uuid: 'c1' as ContainerUuid }
 * ```
 */
export interface AgentContainerParams {
  /** The agent. */
  agentId: AgentUuid
  /** The container. */
  uuid: ContainerUuid
}

/**
 * Parameters of `agent.connect` and `agent.disconnect`.
 *
 * @example
 * ```ts
 * import type { AgentUuid, ClientUuid, ContainerUuid } from '@huly/network/core'
 * import type { AgentConnectParams } from '@huly/network/internal'
 * const params: AgentConnectParams = {
 *   agentId: 'a1' as AgentUuid,
 *   uuid: 'c1' as ContainerUuid,
 *   clientId: 'client-1' as ClientUuid,
 * }
 * ```
 */
export interface AgentConnectParams extends AgentContainerParams {
  /** The client that connects. */
  clientId: ClientUuid
}

/**
 * Header data of a container event.
 *
 * @example
 * ```ts
 * import type { ContainerUuid } from '@huly/network/core'
 * import type { ContainerEventMeta } from '@huly/network/internal'
 * const meta: ContainerEventMeta = { uuid: 'c1' as ContainerUuid }
 * ```
 */
export interface ContainerEventMeta {
  /** The container that broadcast it. */
  uuid: ContainerUuid
  /** The client it is for (on the agent → coordinator hop). */
  clientId?: ClientUuid
}

/**
 * Parameters of `network.identify`.
 *
 * @example
 * ```ts
 * import type { IdentifyParams } from '@huly/network/internal'
 * const params: IdentifyParams = { publicKey: 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7' }
 * ```
 */
export interface IdentifyParams {
  /** A CURVE public key, 40 Z85 characters. */
  publicKey: string
}

/**
 * Body of a `network.revoked` event: keys whose rights were withdrawn or changed.
 *
 * @example
 * ```ts
 * import type { RevokedParams } from '@huly/network/internal'
 * const params: RevokedParams = { publicKeys: [] }
 * ```
 */
export interface RevokedParams {
  /** Their CURVE public keys. */
  publicKeys: string[]
}
