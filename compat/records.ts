/**
 * huly.net's records and events, and their conversion from this library's.
 *
 * @module
 */
import type {
  AgentRecord as ModernAgentRecord,
  AgentUuid,
  ChangeType,
  ClientUuid,
  ContainerKind,
  ContainerRecord as ModernContainerRecord,
  ContainerUuid,
  NetworkEvent as ModernNetworkEvent,
} from '../core/types.ts'
import { agentDirectRef, splitAddress, toCompatRef } from './endpoints.ts'
import type { AgentEndpointRef, ContainerEndpointRef } from './types.ts'

/**
 * What changed, with huly.net's numbers.
 *
 * @example
 * ```ts
 * import { NetworkEventKind } from '@huly/network/compat'
 * console.assert(NetworkEventKind.removed === 2)
 * ```
 */
export enum NetworkEventKind {
  /** It appeared. */
  added = 0,
  /** It changed (a new endpoint, a new agent). */
  updated = 1,
  /** It is gone. */
  removed = 2,
}

/**
 * Options of a get: a fixed uuid, labels to match, extra start parameters.
 * Labels may also be an object (`{ userId: 'u1' }` means `['userId:u1']`).
 *
 * @example
 * ```ts
 * import type { GetOptions } from '@huly/network/compat'
 * const options: GetOptions = { labels: ['tenant:1'] }
 * ```
 */
export interface GetOptions {
  /** The container's uuid, to get that one. */
  uuid?: ContainerUuid
  /** Start parameters passed to the factory. */
  extra?: Record<string, unknown>
  /** Labels the container must carry. */
  labels?: string[] | Record<string, string>
  /** The kind, when the first argument of `client.get` is a uuid (the huly.net README's form). */
  kind?: string
}

/**
 * A container as huly.net lists it: its endpoint is a JSON string.
 *
 * @example
 * ```ts
 * import type { ContainerRecord } from '@huly/network/compat'
 * const show = (record: ContainerRecord) => `${record.kind}/${record.uuid} on ${record.agentId}`
 * ```
 */
export interface ContainerRecord {
  /** The agent hosting it. */
  agentId: AgentUuid
  /** Its uuid. */
  uuid: ContainerUuid
  /** Its kind. */
  kind: ContainerKind
  /** Its endpoint reference. */
  endpoint: ContainerEndpointRef
  /** When it was listed, in milliseconds. */
  lastVisit: number
  /** Its start parameters. */
  extra?: Record<string, unknown>
  /** Its labels. */
  labels?: string[]
}

/**
 * An agent as it registers: its containers and kinds.
 *
 * @example
 * ```ts
 * import type { AgentRecord } from '@huly/network/compat'
 * import type { AgentUuid } from '@huly/network/core'
 * const record: AgentRecord = { agentId: 'a1' as AgentUuid, containers: [], kinds: [] }
 * ```
 */
export interface AgentRecord {
  /** The agent's uuid. */
  agentId: AgentUuid
  /** Its endpoint, if it has one. */
  endpoint?: AgentEndpointRef
  /** The containers it hosts. */
  containers: ContainerRecord[]
  /** The kinds it starts. */
  kinds: ContainerKind[]
}

/**
 * An agent as the network lists it: the number of its containers.
 *
 * @example
 * ```ts
 * import type { AgentRecordInfo } from '@huly/network/compat'
 * const show = (info: AgentRecordInfo) => `${info.agentId}: ${info.containers} containers`
 * ```
 */
export type AgentRecordInfo = Omit<AgentRecord, 'containers'> & { containers: number }

/**
 * A batch of changes, huly.net's shape.
 *
 * @example
 * ```ts
 * import { type NetworkEvent, NetworkEventKind } from '@huly/network/compat'
 * const added = (event: NetworkEvent) => event.containers.filter((c) => c.event === NetworkEventKind.added)
 * ```
 */
export interface NetworkEvent {
  /** Agents that came, changed or went. */
  agents: { id: AgentUuid; kinds: ContainerKind[]; event: NetworkEventKind }[]
  /** Containers that came, changed or went. */
  containers: { container: ContainerRecord; event: NetworkEventKind }[]
}

/**
 * A listener of network events.
 *
 * @example
 * ```ts
 * import type { NetworkUpdateListener } from '@huly/network/compat'
 * const listener: NetworkUpdateListener = async (event) => { console.log(event.containers.length) }
 * ```
 */
export type NetworkUpdateListener = (event: NetworkEvent) => Promise<void> | void

/** huly.net's identifier type of a client, re-exported for signatures. */
export type { ClientUuid }

const eventKinds: Record<ChangeType, NetworkEventKind> = {
  added: NetworkEventKind.added,
  updated: NetworkEventKind.updated,
  removed: NetworkEventKind.removed,
}

/** huly.net's record of one of ours. */
export function toCompatRecord(record: ModernContainerRecord, now = Date.now()): ContainerRecord {
  return {
    agentId: record.agentId,
    uuid: record.uuid,
    kind: record.kind,
    endpoint: toCompatRef(record.endpoint, record.uuid, record.agentId),
    lastVisit: now,
    labels: record.labels,
    ...(record.extra === undefined ? {} : { extra: record.extra }),
  }
}

/** huly.net's agent info of one of ours. */
export function toCompatAgentInfo(record: ModernAgentRecord): AgentRecordInfo {
  return {
    agentId: record.agentId,
    kinds: record.kinds,
    containers: record.containers,
    ...(record.endpoint === undefined ? {} : {
      endpoint: agentDirectRef(
        splitAddress(record.endpoint).host,
        splitAddress(record.endpoint).port,
        record.agentId,
      ),
    }),
  }
}

/** huly.net's event of one of ours. */
export function toCompatEvent(event: ModernNetworkEvent): NetworkEvent {
  return {
    agents: event.agents.map(({ type, agent }) => ({
      id: agent.agentId,
      kinds: agent.kinds,
      event: eventKinds[type],
    })),
    containers: event.containers.map(({ type, container }) => ({
      container: toCompatRecord(container),
      event: eventKinds[type],
    })),
  }
}

/** Our labels of huly.net's (an object `{ k: v }` is `['k:v']`). */
export function toLabels(labels: GetOptions['labels']): string[] | undefined {
  if (labels === undefined || Array.isArray(labels)) return labels
  return Object.entries(labels).map(([key, value]) => `${key}:${value}`)
}
