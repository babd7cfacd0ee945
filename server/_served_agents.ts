// The agents this coordinator serves through rpc sessions: the operations of the
// peers that serve agents (register, unregister, drain, identify), and the handles
// the server registered, read back from the network model that holds them.
import { getLogger } from '@logtape/logtape'
import { AuthorizationError, ContainerNotFoundError } from '../common/errors.ts'
import type { CoordinatorModel } from '../core/model.ts'
import type { NetworkOperations, OperationHandlers } from '../core/operations.ts'
import { NetworkOperation } from '../core/protocol.ts'
import type {
  AgentRegistration,
  AgentUuid,
  ClientUuid,
  ContainerRecord,
  ContainerUuid,
  NetworkAgent,
  RegisterResult,
} from '../core/types.ts'
import type { RpcServer } from '../rpc/server.ts'
import type { RpcSession } from '../rpc/session.ts'
import { mayRegister } from '../security/access.ts'
import type { AccessGuard } from './_guard.ts'
import { RemoteAgent } from './remote_agent.ts'

const logger = getLogger(['huly-network', 'server'])

/** The operations only a peer that serves agents sends (the others are clients'). */
export type AgentRoleOperation =
  | typeof NetworkOperation.register
  | typeof NetworkOperation.unregister
  | typeof NetworkOperation.drain
  | typeof NetworkOperation.identify

/** The agents served through this server's sessions, and the operations of their peers. */
export class ServedAgents {
  /**
   * The network's handles this server made. The network also holds agents registered
   * in process (or through another server), which this server does not route to; who
   * serves an agent, and whether it still is registered, the network knows alone.
   */
  readonly #mine = new WeakSet<NetworkAgent>()

  constructor(
    readonly network: CoordinatorModel,
    readonly rpc: RpcServer,
    readonly guard: AccessGuard | undefined,
  ) {}

  /** The handlers of the agent-role operations; the caller is the request's session. */
  readonly handlers: OperationHandlers<Pick<NetworkOperations, AgentRoleOperation>, RpcSession> = {
    [NetworkOperation.register]: ({ registration }, session) =>
      this.#register(session, registration),
    [NetworkOperation.unregister]: async ({ agentId }, session) => {
      this.guard?.check(session, (grant) => grant.role !== 'client', 'unregister agents')
      this.#checkOwner(session, agentId)
      await this.network.unregister(agentId)
      return null
    },
    [NetworkOperation.drain]: ({ agentId, deadlineMs }, session) => {
      this.guard?.check(session, (grant) => grant.role !== 'client', 'drain agents')
      // Only the connection serving an agent may drain it.
      this.#checkOwner(session, agentId)
      return this.network.drain(agentId, { deadlineMs })
    },
    [NetworkOperation.identify]: ({ publicKey }, session) => {
      this.guard?.check(session, (grant) => grant.role !== 'client', 'identify peers')
      return this.guard?.grant(publicKey) ?? null
    },
  }

  /** This server's handle on `agent`, when this server registered it. */
  of(agent: NetworkAgent | undefined): RemoteAgent | undefined {
    return this.#isMine(agent) ? agent : undefined
  }

  #isMine(agent: NetworkAgent | undefined): agent is RemoteAgent {
    return agent !== undefined && this.#mine.has(agent)
  }

  /** This server's handle on a registered agent. */
  byId(agentId: AgentUuid): RemoteAgent | undefined {
    return this.of(this.network.agentHandle(agentId))
  }

  /** A live container and this server's agent serving it; throws when there is none. */
  live(uuid: ContainerUuid): { record: ContainerRecord; agent: RemoteAgent } {
    const route = this.network.route(uuid)
    const agent = this.of(route?.agent)
    if (route === undefined || agent === undefined) {
      throw new ContainerNotFoundError(`container "${uuid}" is not live`)
    }
    return { record: route.record, agent }
  }

  /** Every registered agent this server serves. */
  *all(): IterableIterator<RemoteAgent> {
    for (const handle of this.network.agentHandles()) {
      if (this.#isMine(handle)) yield handle
    }
  }

  /** A connection ended: the agents it served go now, not one more timeout later. */
  sessionClosed(clientId: ClientUuid): void {
    for (const agent of [...this.all()]) {
      if (agent.clientId !== clientId) continue
      this.network.unregister(agent.uuid).catch((error) =>
        logger.warn('unregistering agent {agentId} of a closed session failed: {error}', {
          agentId: agent.uuid,
          error,
        })
      )
    }
  }

  async #register(session: RpcSession, registration: AgentRegistration): Promise<RegisterResult> {
    const clientId = session.peerId as ClientUuid
    const { agentId } = registration
    if (this.guard !== undefined) {
      const kinds = [...registration.kinds, ...registration.containers.map(({ kind }) => kind)]
      this.guard.check(
        session,
        (grant) => mayRegister(grant, kinds),
        `register agent ${agentId} with kinds [${kinds.join(', ')}]`,
      )
    }
    const current = this.byId(agentId)
    if (
      current !== undefined && current.clientId !== clientId && this.rpc.session(current.clientId)
    ) {
      throw new AuthorizationError(`agent "${agentId}" is served by another live connection`)
    }
    const agent = new RemoteAgent(agentId, session)
    this.#mine.add(agent)
    return await this.network.register(registration, agent)
  }

  /** Only the connection serving an agent may speak for it. */
  #checkOwner(session: RpcSession, agentId: AgentUuid): void {
    const current = this.byId(agentId)
    if (current !== undefined && current.clientId !== session.peerId) {
      throw new AuthorizationError(`agent "${agentId}" belongs to another connection`)
    }
  }
}
