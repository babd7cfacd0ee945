// The operations of a client of the coordinator: get, release, list, agents, kinds,
// and connecting to a container's events through the network.
import { getLogger } from '@logtape/logtape'
import type { CoordinatorModel } from '../core/model.ts'
import type { NetworkOperations, OperationHandlers } from '../core/operations.ts'
import { AgentOperation, type GetParams, NetworkOperation } from '../core/protocol.ts'
import type { ClientUuid, ContainerRecord, ContainerUuid } from '../core/types.ts'
import type { RpcSession } from '../rpc/session.ts'
import { requireAccess } from '../security/access.ts'
import type { AccessGuard } from './_guard.ts'
import type { AgentRoleOperation, ServedAgents } from './_served_agents.ts'
import type { CoordinatorMetrics } from './metrics.ts'

const logger = getLogger(['huly-network', 'server'])

/** The operations of a client. */
type ClientRoleOperations = Omit<NetworkOperations, AgentRoleOperation>

/** Serves the operations of clients, and keeps which containers each is connected to. */
export class ClientOperations {
  /** Containers each client is connected to through the network. */
  readonly #connections = new Map<ClientUuid, Set<ContainerUuid>>()

  constructor(
    readonly network: CoordinatorModel,
    readonly agents: ServedAgents,
    readonly guard: AccessGuard | undefined,
    readonly metrics: CoordinatorMetrics,
  ) {}

  /** The handlers of the client operations; the caller is the request's session. */
  readonly handlers: OperationHandlers<ClientRoleOperations, RpcSession> = {
    [NetworkOperation.get]: (params, session) => this.#get(session, params),
    [NetworkOperation.release]: ({ uuid }, session) =>
      this.network.release(session.peerId as ClientUuid, uuid),
    [NetworkOperation.list]: ({ kind }, session) => {
      const records = this.network.list(kind)
      return this.guard === undefined ? records : this.guard.visible(session, records)
    },
    [NetworkOperation.agents]: () => this.network.agents(),
    [NetworkOperation.kinds]: () => this.network.kinds(),
    [NetworkOperation.connect]: ({ uuid }, session) => this.#connect(session, uuid),
    [NetworkOperation.disconnect]: ({ uuid }, session) => this.#disconnect(session, uuid),
  }

  /** A connection ended: the containers it was connected to are told. */
  sessionClosed(clientId: ClientUuid): void {
    const connected = this.#connections.get(clientId)
    this.#connections.delete(clientId)
    for (const uuid of connected ?? []) {
      this.agents.of(this.network.route(uuid)?.agent)
        ?.connection(AgentOperation.disconnect, uuid, clientId)
        .catch((error) =>
          logger.debug('disconnect of {clientId} from {uuid} failed: {error}', {
            clientId,
            uuid,
            error,
          })
        )
    }
  }

  /**
   * A get, checked twice with keys: what is asked (the live container of that uuid,
   * else the kind and labels a new one would carry), then what was got.
   */
  async #get(session: RpcSession, { kind, options }: GetParams): Promise<ContainerRecord> {
    const clientId = session.peerId as ClientUuid
    if (this.guard !== undefined) {
      const { uuid, labels = [] } = options
      const live = uuid === undefined ? undefined : this.network.route(uuid)
      this.guard.checkUse(session, live?.record ?? { kind, labels, uuid })
      if (live === undefined && uuid !== undefined) this.#checkScope(session, uuid)
    }
    const record = await this.network.get(clientId, kind, options)
    try {
      this.guard?.checkUse(session, record)
    } catch (error) {
      await this.network.release(clientId, record.uuid)
      throw error
    }
    return record
  }

  /**
   * With keys, a client limited to labels may start a container by uuid only under
   * one of its labels (`workspace:42/inbox`): a uuid outside them could be another
   * tenant's, and taking it first would lock that tenant out of it.
   */
  #checkScope(session: RpcSession, uuid: string): void {
    const labels = this.guard!.of(session).labels ?? []
    if (labels.length === 0 || labels.some((label) => uuid.startsWith(`${label}/`))) return
    this.metrics.refuse('uuid-scope', `a uuid outside the caller's labels: ${uuid}`)
    requireAccess(
      false,
      this.guard!.of(session),
      `start container ${uuid}: a uuid must start with one of ${
        labels.map((label) => `"${label}/"`).join(', ')
      }`,
    )
  }

  async #connect(session: RpcSession, uuid: ContainerUuid): Promise<null> {
    const clientId = session.peerId as ClientUuid
    const { record, agent } = this.agents.live(uuid)
    this.guard?.checkUse(session, record)
    await agent.connection(AgentOperation.connect, uuid, clientId)
    let connected = this.#connections.get(clientId)
    if (connected === undefined) this.#connections.set(clientId, connected = new Set())
    connected.add(uuid)
    return null
  }

  async #disconnect(session: RpcSession, uuid: ContainerUuid): Promise<null> {
    const clientId = session.peerId as ClientUuid
    const { agent } = this.agents.live(uuid)
    this.#connections.get(clientId)?.delete(uuid)
    await agent.connection(AgentOperation.disconnect, uuid, clientId)
    return null
  }
}
