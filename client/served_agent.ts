/**
 * Agents a client serves: each binds its own endpoint, where clients with a direct
 * link reach its containers, and is registered with the coordinator through the client.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type { TickManager } from '../common/clock.ts'
import { InvalidArgumentError } from '../common/errors.ts'
import { requirePositive } from '../common/validate.ts'
import { AgentImpl } from '../core/agent.ts'
import { DEFAULT_DRAIN_DEADLINE_MS } from '../core/drain.ts'
import { EventTopic, NetworkOperation } from '../core/protocol.ts'
import type {
  AgentUuid,
  ClientUuid,
  Container,
  ContainerFactory,
  DrainOptions,
  DrainResult,
  StartOptions,
} from '../core/types.ts'
import type { RpcClientOptions } from '../rpc/client.ts'
import { RpcServer } from '../rpc/server.ts'
import type { CoordinatorLink } from './_coordinator_link.ts'
import { EndpointGuard } from './_endpoint_guard.ts'
import { requireName, type RpcTimings } from './_internals.ts'
import { ConnectionTable, handleEndpointRequest } from './agent_host.ts'

const logger = getLogger(['huly-network', 'client'])

/** How long a drained agent's endpoint stays open for clients still on their way. */
const DRAIN_LINGER_MS = 1000

/** How long past its deadline a drain's answer is awaited. */
const DRAIN_ANSWER_MARGIN_MS = 10_000

/**
 * A stateless container an agent declares at start: several agents may declare
 * one uuid; the network serves the first and keeps the others standing by.
 *
 * @example
 * ```ts
 * import type { Container, ContainerKind, ContainerUuid } from '@huly/network/core'
 * import type { StatelessContainer } from '@huly/network/client'
 * declare const container: Container
 * const declared: StatelessContainer = {
 *   options: { uuid: 'ha-1' as ContainerUuid, kind: 'ha' as ContainerKind, labels: [] },
 *   container,
 * }
 * ```
 */
export interface StatelessContainer {
  /** Its uuid, kind and labels. */
  options: StartOptions
  /** The instance. */
  container: Container
}

/**
 * Options of {@link NetworkClient.serveAgent}.
 *
 * @example
 * ```ts
 * import type { ServeAgentOptions } from '@huly/network/client'
 * const options: ServeAgentOptions = { agentId: 'agent-1' }
 * ```
 */
export interface ServeAgentOptions {
  /** The agent's id (a random uuid when absent). */
  agentId?: string
  /** Stateless containers it declares. */
  stateless?: StatelessContainer[]
  /** The address clients use to reach the endpoint, when it differs from the bound one. */
  advertise?: string
  /** The endpoint's socket transport; the client's (`NetworkClientOptions.transport`) when absent. */
  transport?: RpcClientOptions['transport']
}

/**
 * An agent served by a client: its own endpoint and its registration.
 *
 * @example
 * ```ts ignore
 * import type { ServedAgent } from '@huly/network/client'
 * declare const served: ServedAgent
 * console.log(served.agent.uuid, served.endpoint)
 * await served.close()
 * ```
 */
export interface ServedAgent extends AsyncDisposable {
  /** The agent. */
  readonly agent: AgentImpl
  /** Its endpoint, such as `tcp://127.0.0.1:3738`. */
  readonly endpoint: string
  /**
   * Drains the agent: the coordinator places nothing new on it and moves each of
   * its containers to another agent of its kind (see `NetworkClient.drain`).
   * Close it afterwards.
   */
  drain(options?: DrainOptions): Promise<DrainResult>
  /** Terminates its containers, unregisters the agent and closes its endpoint. */
  close(): Promise<void>
}

/** What serving agents needs of the client that serves them. */
export interface ServingHost {
  /** The client's clock. */
  readonly clock: TickManager
  /** The client's timings. */
  readonly timings: Readonly<RpcTimings>
  /** The client's socket transport. */
  readonly transport: RpcClientOptions['transport']
  /** The client's CURVE key pair, when it has one: its endpoints encrypt with it. */
  keyPair(): { publicKey: string; secretKey: string } | undefined
  /** The client's link to the coordinator. */
  readonly coordinator: CoordinatorLink
  /** Adds the agent to the client and registers it, trying again while the coordinator is unreachable. */
  register(agent: AgentImpl): Promise<void>
  /** Removes the agent from the client, before it is terminated. */
  remove(agentId: AgentUuid): void
}

/** The agents one client serves, and the guards of their encrypted endpoints. */
export class ServedAgents {
  readonly #host: ServingHost
  readonly #served = new Set<ServedAgent>()
  readonly #guards = new Set<{ guard: EndpointGuard; server: RpcServer }>()

  constructor(host: ServingHost) {
    this.#host = host
  }

  /** Binds an agent endpoint at `endpoint` (`tcp://host:port`), creates the agent and registers it. */
  async serve(
    endpoint: string,
    factories: Record<string, ContainerFactory>,
    options: ServeAgentOptions,
  ): Promise<ServedAgent> {
    const host = this.#host
    const agentId = (options.agentId ?? crypto.randomUUID()) as AgentUuid
    let table: ConnectionTable | undefined
    const keys = host.keyPair()
    const { coordinator } = host
    const guard = keys &&
      new EndpointGuard((publicKey) => coordinator.call(NetworkOperation.identify, { publicKey }))
    const server = new RpcServer({
      clock: host.clock,
      handler: (request) => handleEndpointRequest(table!, request, guard),
      serverId: agentId,
      transport: options.transport ?? host.transport,
      aliveTimeoutMs: host.timings.aliveTimeoutMs,
      checkIntervalMs: host.timings.pingIntervalMs,
      onSessionClosed: (session) => table?.clientGone(session.peerId as ClientUuid),
      ...(guard && {
        socket: {
          curve: { secretKey: keys!.secretKey },
          zapHandler: guard.zap,
          readUserId: true,
        },
        authenticate: guard.authenticate,
        peerIdOf: guard.peerIdOf,
      }),
    })
    try {
      const bound = server.listen(endpoint)
      const agent = new AgentImpl(agentId, factories, {
        endpoint: options.advertise ?? bound,
        publicKey: keys?.publicKey,
      })
      table = new ConnectionTable(
        agent,
        (uuid, clientId, body) =>
          server.session(clientId)?.event(EventTopic.container, body, { uuid }),
      )
      for (const { options: start, container } of options.stateless ?? []) {
        agent.declareStateless(start, container)
      }
      await host.register(agent)
      const served: ServedAgent = {
        agent,
        endpoint: agent.endpoint!,
        drain: async (drainOptions) => {
          const result = await drainAgent(coordinator, agentId, drainOptions)
          // Clients learn the new places by an event: until it lands, requests that still
          // come here are refused (they did not run) and go through the coordinator.
          await new Promise<void>((resolve) => host.clock.schedule(resolve, DRAIN_LINGER_MS))
          return result
        },
        close: async () => {
          this.#served.delete(served)
          for (const entry of this.#guards) if (entry.server === server) this.#guards.delete(entry)
          host.remove(agent.uuid)
          // Terminated before unregistered: the coordinator may start a container
          // elsewhere only once this copy is gone (single activation).
          await agent.close()
          if (coordinator.rpc.connected) {
            await coordinator.call(NetworkOperation.unregister, { agentId }, {
              timeoutMs: 1000,
              bookkeeping: true,
            }).catch((error) =>
              logger.info('unregistering agent {agentId} failed: {error}', { agentId, error })
            )
          }
          await server.close()
        },
        [Symbol.asyncDispose]: () => served.close(),
      }
      this.#served.add(served)
      if (guard !== undefined) this.#guards.add({ guard, server })
      return served
    } catch (error) {
      await server.close()
      throw error
    }
  }

  /** Closes every agent served (a failure is logged). */
  async close(): Promise<void> {
    for (const served of [...this.#served]) {
      await served.close().catch((error) =>
        logger.warn('closing agent {agentId} failed: {error}', {
          agentId: served.agent.uuid,
          error,
        })
      )
    }
  }

  /** The coordinator revoked keys: the endpoints drop their sessions. */
  revoked(publicKeys: string[]): void {
    for (const { guard, server } of this.#guards) {
      guard.revoke(publicKeys)
      endSessionsOf(server, publicKeys)
    }
  }

  /** Back from a lost coordinator link: the keys connected to endpoints are checked again. */
  async recheckKeys(): Promise<void> {
    for (const { guard, server } of this.#guards) {
      const keys = server.sessions().map((session) => session.userId)
      endSessionsOf(server, await guard.recheck(keys))
    }
  }
}

/** Ends the sessions of `publicKeys` on an agent endpoint. */
function endSessionsOf(server: RpcServer, publicKeys: readonly string[]): void {
  for (const session of server.sessions()) {
    if (publicKeys.includes(session.userId)) {
      server.disconnect(session.peerId, 'the key was revoked')
    }
  }
}

/**
 * Drains an agent (`NetworkClient.drain`): nothing new is placed on it and each of its
 * containers moves to another agent of its kind; the outcome is logged.
 */
export async function drainAgent(
  coordinator: CoordinatorLink,
  agentId: string,
  options: DrainOptions = {},
): Promise<DrainResult> {
  requireName(agentId, 'agentId')
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('drain options must be an object')
  }
  const deadlineMs = options.deadlineMs ?? DEFAULT_DRAIN_DEADLINE_MS
  requirePositive(deadlineMs, 'deadlineMs')
  logger.info('agent {agentId} drains (deadline {deadlineMs} ms)', { agentId, deadlineMs })
  // The coordinator answers by the deadline; the margin covers the last move's start.
  const result = await coordinator.call(
    NetworkOperation.drain,
    { agentId: agentId as AgentUuid, deadlineMs },
    { timeoutMs: deadlineMs + DRAIN_ANSWER_MARGIN_MS },
  )
  if (result.complete) {
    logger.info('agent {agentId} drained: {moved} moved in {durationMs} ms', { ...result })
  } else {
    logger.warn(
      'agent {agentId} drain ended after {durationMs} ms: {moved} moved, {left} left, {failed} failed: {reason}',
      { ...result },
    )
  }
  return result
}
