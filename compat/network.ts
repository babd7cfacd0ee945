/**
 * huly.net's network: `new NetworkImpl(tickManager)`, `get(client, kind, options)`
 * → `[uuid, endpoint]`, huly.net's events, on this library's `NetworkImpl`.
 *
 * @module
 */
import { NetworkImpl as ModernNetworkImpl } from '../core/network.ts'
import type { TickManager } from '../common/clock.ts'
import { networkEndpoint } from '../core/endpoint.ts'
import { ContainerNotFoundError } from '../common/errors.ts'
import type {
  AgentRegistration,
  AgentUuid,
  ClientUuid,
  ContainerKind,
  ContainerUuid,
  NetworkAgent as ModernNetworkAgent,
} from '../core/types.ts'
import { AgentImpl, type NetworkAgent } from './agent.ts'
import { agentAddress, fromCompatRef, toCompatRef } from './endpoints.ts'
import {
  type AgentRecord,
  type AgentRecordInfo,
  type ContainerRecord,
  type GetOptions,
  type NetworkEvent,
  toCompatAgentInfo,
  toCompatEvent,
  toCompatRecord,
  toLabels,
} from './records.ts'
import type { ContainerEndpointRef } from './types.ts'
import { modernTimeouts } from './utils.ts'

/**
 * huly.net's network interface.
 *
 * @example
 * ```ts
 * import { FakeTickManager, type Network, NetworkImpl } from '@huly/network/compat'
 * const network: Network = new NetworkImpl(new FakeTickManager())
 * network.close()
 * ```
 */
export interface Network {
  /** Registers an agent; resolves with its containers left standing by. */
  register(record: AgentRecord, agent: NetworkAgent): Promise<ContainerUuid[]>
  /** Removes an agent and its containers. */
  unregister(agentId: AgentUuid): Promise<void>
  /** Marks an agent or client alive. */
  ping(id: AgentUuid | ClientUuid): void
  /** The agents. */
  agents(): Promise<AgentRecordInfo[]>
  /** The kinds the agents start, each once. */
  kinds(): Promise<ContainerKind[]>
  /** Finds or starts a container for `client`: `[uuid, endpoint]`. */
  get(
    client: ClientUuid,
    kind: ContainerKind,
    options: GetOptions,
  ): Promise<[ContainerUuid, ContainerEndpointRef]>
  /** Drops one reference of `client`. */
  release(client: ClientUuid, uuid: ContainerUuid): Promise<void>
  /** The containers, of one kind or all. */
  list(kind?: ContainerKind): Promise<ContainerRecord[]>
  /** Sends a request to a container. */
  request(target: ContainerUuid, operation: string, data?: unknown): Promise<unknown>
  /** Stops it. */
  close(): void
}

/**
 * huly.net's network, backed by this library's `NetworkImpl` (`modern`); its
 * timings are `timeouts` as they are when it is created.
 *
 * @example
 * ```ts
 * import { AgentImpl, FakeTickManager, NetworkImpl } from '@huly/network/compat'
 * import type { AgentUuid, ClientUuid, ContainerKind } from '@huly/network/core'
 * const network = new NetworkImpl(new FakeTickManager())
 * const agent = new AgentImpl('agent-1' as AgentUuid, {
 *   echo: async () => [{ request: async (_op, data) => data, terminate: async () => {}, ping: async () => {}, connect: () => {}, disconnect: () => {} }],
 * })
 * await agent.register(network)
 * const [uuid, endpoint] = await network.get('client-1' as ClientUuid, 'echo' as ContainerKind, {})
 * console.assert(typeof endpoint === 'string' && await network.request(uuid, 'op', 1) === 1)
 * network.close()
 * ```
 */
export class NetworkImpl implements Network {
  /** This library's network behind it. */
  readonly modern: ModernNetworkImpl
  readonly #clients = new Map<ClientUuid, () => void>()
  /** The compat agents registered, for the endpoint strings their factories gave. */
  readonly #agents = new Map<AgentUuid, AgentImpl>()

  /** A network on `tickManager`. */
  constructor(readonly tickManager: TickManager) {
    this.modern = new ModernNetworkImpl(tickManager, { timeouts: modernTimeouts() })
  }

  /** Registers an agent (ours, or any with huly.net's agent interface). */
  async register(record: AgentRecord, agent: NetworkAgent): Promise<ContainerUuid[]> {
    const registration = agent instanceof AgentImpl
      ? agent.modern().registration()
      : toRegistration(record)
    const modern = agent instanceof AgentImpl ? agent.modern() : adaptAgent(agent)
    if (agent instanceof AgentImpl) this.#agents.set(agent.uuid, agent)
    return (await this.modern.register(registration, modern)).standby
  }

  /** Removes an agent and its containers. */
  unregister(agentId: AgentUuid): Promise<void> {
    return this.modern.unregister(agentId)
  }

  /** Marks an agent or client alive. */
  ping(id: AgentUuid | ClientUuid): void {
    this.modern.ping(id)
  }

  /** The agents. */
  agents(): Promise<AgentRecordInfo[]> {
    return Promise.resolve(this.modern.agents().map(toCompatAgentInfo))
  }

  /** The kinds the agents start. */
  kinds(): Promise<ContainerKind[]> {
    return Promise.resolve(this.modern.kinds())
  }

  /** Finds or starts a container for `client`: `[uuid, endpoint]`. */
  async get(
    client: ClientUuid,
    kind: ContainerKind,
    options: GetOptions = {},
  ): Promise<[ContainerUuid, ContainerEndpointRef]> {
    const record = await this.modern.get(client, kind, {
      uuid: options.uuid,
      labels: toLabels(options.labels),
      extra: options.extra,
    })
    const given = this.#agents.get(record.agentId)?.endpointOf(record.uuid)
    return [record.uuid, given ?? toCompatRef(record.endpoint, record.uuid, record.agentId)]
  }

  /** Drops one reference of `client`. */
  async release(client: ClientUuid, uuid: ContainerUuid): Promise<void> {
    await this.modern.release(client, uuid)
  }

  /** The containers. */
  list(kind?: ContainerKind): Promise<ContainerRecord[]> {
    const now = this.tickManager.now()
    return Promise.resolve(this.modern.list(kind).map((record) => toCompatRecord(record, now)))
  }

  /** Sends a request to a container; `ContainerNotFoundError` if it is not there. */
  async request(target: ContainerUuid, operation: string, data?: unknown): Promise<unknown> {
    try {
      return await this.modern.request(target, operation, data)
    } catch (error) {
      if (!(error instanceof ContainerNotFoundError)) throw error
      throw new ContainerNotFoundError(`Container ${target} not found`, { cause: error })
    }
  }

  /** Sends `clientUuid` every event from now on, huly.net's shape. */
  addClient(clientUuid: ClientUuid, onContainer?: (event: NetworkEvent) => Promise<void>): void {
    this.#clients.get(clientUuid)?.()
    this.modern.ping(clientUuid)
    this.#clients.set(
      clientUuid,
      onContainer === undefined
        ? () => {}
        : this.modern.subscribe((event) => onContainer(toCompatEvent(event))),
    )
  }

  /** Forgets `clientUuid`: its references are dropped. */
  removeClient(clientUuid: ClientUuid): void {
    this.#clients.get(clientUuid)?.()
    this.#clients.delete(clientUuid)
    this.modern.clientGone(clientUuid)
  }

  /** Stops it (its containers are terminated in the background). */
  close(): void {
    for (const stop of this.#clients.values()) stop()
    this.#clients.clear()
    void this.modern.close()
  }
}

function toRegistration(record: AgentRecord): AgentRegistration {
  return {
    agentId: record.agentId,
    kinds: record.kinds,
    endpoint: agentAddress(record.endpoint),
    containers: record.containers.map((container) => ({
      uuid: container.uuid,
      kind: container.kind,
      agentId: record.agentId,
      endpoint: fromCompatRef(container.endpoint, true) ?? networkEndpoint(),
      labels: container.labels ?? [],
    })),
  }
}

/** Our agent interface over huly.net's. */
function adaptAgent(agent: NetworkAgent): ModernNetworkAgent {
  return {
    uuid: agent.uuid,
    get: async (start) => {
      const [uuid, endpoint] = await agent.get(start.kind, {
        uuid: start.uuid,
        labels: start.labels,
        extra: start.extra,
      })
      return { uuid, endpoint: fromCompatRef(endpoint, true) ?? networkEndpoint() }
    },
    terminate: (uuid) => agent.terminate(uuid),
    request: (uuid, operation, data) => agent.request(uuid, operation, data),
  }
}
