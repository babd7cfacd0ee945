// The agent side of a client: serves the coordinator's agent.* requests for the
// agents registered through this client, and the container.* requests of an
// agent's own endpoint.
import { getLogger } from '@logtape/logtape'
import type { AgentImpl } from '../core/agent.ts'
import { AgentNotFoundError, ContainerNotFoundError, ProtocolError } from '../core/errors.ts'
import {
  type AgentConnectParams,
  type AgentContainerParams,
  AgentOperation,
  type AgentRouteMeta,
  type AgentStartParams,
  ContainerOperation,
  type RouteMeta,
} from '../core/protocol.ts'
import type { AgentUuid, ClientUuid, ContainerUuid } from '../core/types.ts'
import { decode, encode } from '../rpc/codec.ts'
import type { IncomingRequest } from '../rpc/session.ts'
import type { EndpointGuard } from './_endpoint_guard.ts'

const logger = getLogger(['huly-network', 'client', 'agent'])

/** Sends one container event to one client. */
export type EventSink = (uuid: ContainerUuid, clientId: ClientUuid, body: Uint8Array) => void

/** Connections of clients to containers of one agent, so a gone client is disconnected. */
export class ConnectionTable {
  readonly #byClient = new Map<ClientUuid, Set<ContainerUuid>>()

  constructor(readonly agent: AgentImpl, readonly sink: EventSink) {}

  async connect(uuid: ContainerUuid, clientId: ClientUuid): Promise<null> {
    const container = this.agent.getContainer(uuid)
    if (container === undefined) {
      throw new ContainerNotFoundError(`agent "${this.agent.uuid}" does not host "${uuid}"`)
    }
    await container.connect?.(clientId, (data) => this.sink(uuid, clientId, encode(data)))
    let set = this.#byClient.get(clientId)
    if (set === undefined) this.#byClient.set(clientId, set = new Set())
    set.add(uuid)
    return null
  }

  async disconnect(uuid: ContainerUuid, clientId: ClientUuid): Promise<null> {
    this.#byClient.get(clientId)?.delete(uuid)
    await this.agent.getContainer(uuid)?.disconnect?.(clientId)
    return null
  }

  /** The client is gone: every container it was connected to is told. */
  clientGone(clientId: ClientUuid): void {
    const set = this.#byClient.get(clientId)
    this.#byClient.delete(clientId)
    for (const uuid of set ?? []) {
      Promise.resolve(this.agent.getContainer(uuid)?.disconnect?.(clientId)).catch((error) =>
        logger.debug('disconnect of {clientId} failed: {error}', { clientId, error })
      )
    }
  }
}

/** Serves the coordinator's agent.* requests for the agents of one client. */
export class AgentHost {
  readonly #agents = new Map<AgentUuid, ConnectionTable>()

  constructor(readonly sink: EventSink) {}

  add(agent: AgentImpl): void {
    this.#agents.set(agent.uuid, new ConnectionTable(agent, this.sink))
  }

  remove(agentId: AgentUuid): void {
    this.#agents.delete(agentId)
  }

  agents(): AgentImpl[] {
    return [...this.#agents.values()].map((table) => table.agent)
  }

  async handle(request: IncomingRequest): Promise<Uint8Array> {
    if (request.operation === AgentOperation.request) {
      const meta = request.meta as AgentRouteMeta
      const agent = this.#table(meta?.agentId).agent
      return encode(
        await agent.request(meta.target, meta.operation, decode(request.body), meta.clientId),
      )
    }
    const params = decode(request.body) as AgentContainerParams
    const table = this.#table(params?.agentId)
    switch (request.operation) {
      case AgentOperation.start:
        return encode(await table.agent.get((params as unknown as AgentStartParams).options))
      case AgentOperation.terminate:
        await table.agent.terminate(params.uuid)
        return encode(null)
      case AgentOperation.connect:
        return encode(await table.connect(params.uuid, (params as AgentConnectParams).clientId))
      case AgentOperation.disconnect:
        return encode(await table.disconnect(params.uuid, (params as AgentConnectParams).clientId))
      default:
        throw new ProtocolError(`unknown agent operation "${request.operation}"`)
    }
  }

  #table(agentId: AgentUuid | undefined): ConnectionTable {
    const table = agentId === undefined ? undefined : this.#agents.get(agentId)
    if (table === undefined) throw new AgentNotFoundError(`agent "${agentId}" is not served here`)
    return table
  }
}

/**
 * Serves container.* requests that clients send straight to an agent's endpoint;
 * with a `guard`, only to the containers the caller's grant allows.
 */
export async function handleEndpointRequest(
  table: ConnectionTable,
  request: IncomingRequest,
  guard?: EndpointGuard,
): Promise<Uint8Array> {
  const clientId = request.session.peerId as ClientUuid
  if (request.operation === ContainerOperation.request) {
    const meta = request.meta as RouteMeta
    guard?.checkUse(request.session, table.agent.getRecord(meta?.target))
    return encode(
      await table.agent.request(meta?.target, meta?.operation, decode(request.body), clientId),
    )
  }
  const { uuid } = (decode(request.body) ?? {}) as { uuid: ContainerUuid }
  switch (request.operation) {
    case ContainerOperation.connect:
      guard?.checkUse(request.session, table.agent.getRecord(uuid))
      return encode(await table.connect(uuid, clientId))
    case ContainerOperation.disconnect:
      return encode(await table.disconnect(uuid, clientId))
    default:
      throw new ProtocolError(`unknown container operation "${request.operation}"`)
  }
}
