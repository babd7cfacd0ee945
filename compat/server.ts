/**
 * huly.net's `NetworkServer(network, tickManager, host, port)` on this library's
 * coordinator server.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import { NetworkServer as ModernNetworkServer } from '../server/network_server.ts'
import type { TickManager } from '../common/clock.ts'
import { NotConnectedError, UnknownMethodError } from '../common/errors.ts'
import type { AgentUuid, ClientUuid, ContainerKind, ContainerUuid } from '../core/types.ts'
import type { NetworkAgent } from './agent.ts'
import type { BackRPCResponseSend } from './backrpc.ts'
import type { NetworkImpl } from './network.ts'
import { parseEndpointRef, splitAddress } from './endpoints.ts'
import type { ContainerRecord, GetOptions } from './records.ts'
import type { AgentEndpointRef } from './types.ts'

const logger = getLogger(['huly-network', 'compat', 'server'])

/**
 * huly.net's names of the coordinator's operations, as `NetworkServer.requestHandler` takes them.
 *
 * @example
 * ```ts
 * import { opNames } from '@huly/network/compat'
 * console.assert(opNames.getKinds === 'ak')
 * ```
 */
export const opNames: Readonly<{
  register: 'ar'
  unregister: 'au'
  getAgents: 'al'
  getKinds: 'ak'
  listContainers: 'cl'
  getContainer: 'gg'
  releaseContainer: 'cr'
  sendContainer: 'cs'
  containerUpdate: 'cu'
  terminate: 'ct'
  connect: 'cc'
  disconnect: 'cd'
}> = Object.freeze({
  register: 'ar',
  unregister: 'au',
  getAgents: 'al',
  getKinds: 'ak',
  listContainers: 'cl',
  getContainer: 'gg',
  releaseContainer: 'cr',
  sendContainer: 'cs',
  containerUpdate: 'cu',
  terminate: 'ct',
  connect: 'cc',
  disconnect: 'cd',
})

/** Our bind host of huly.net's: `*` means every interface. */
export function bindHost(host: string): string {
  return host === '*' ? '0.0.0.0' : host
}

/**
 * The coordinator's server, listening at once on `host:port` (`*` for every
 * interface; port 0 picks a free one, see `getPort`).
 *
 * @example
 * ```ts
 * import { NetworkImpl, NetworkServer, TickManagerImpl } from '@huly/network/compat'
 * const tick = new TickManagerImpl(20)
 * tick.start()
 * const server = new NetworkServer(new NetworkImpl(tick), tick, '127.0.0.1', 0)
 * console.log('listening on', await server.getPort())
 * await server.close()
 * server.network.close()
 * tick.stop()
 * ```
 */
export class NetworkServer {
  /** This library's server behind it. */
  readonly modern: ModernNetworkServer
  /** The clients announced through `helloHandler` and not yet through `closeHandler`. */
  readonly clients: Set<ClientUuid> = new Set()
  /** huly.net's rpc server field: the port it listens on, and `close`. */
  readonly rpcServer: { getPort(): Promise<number>; close(): Promise<void> } = {
    getPort: () => this.getPort(),
    close: () => this.modern.close(),
  }

  /** Serves `network` on `host:port`. */
  constructor(
    readonly network: NetworkImpl,
    tickManager: TickManager,
    host: string = '*',
    port: number = 3737,
  ) {
    this.modern = new ModernNetworkServer(network.modern, tickManager, {
      host: bindHost(host),
      port,
    })
  }

  /** The port it listens on. */
  getPort(): Promise<number> {
    return Promise.resolve(splitAddress(this.modern.endpoint).port)
  }

  /**
   * Answers one of huly.net's coordinator operations (`opNames`) for `client` from
   * the network, through `send`. This library's own clients do not come this way
   * (they speak its wire protocol to `modern`); an agent registered here is known
   * to the network but cannot be reached: its calls fail with `NotConnectedError`.
   */
  async requestHandler(
    client: ClientUuid,
    method: string,
    params: unknown,
    send: BackRPCResponseSend,
  ): Promise<void> {
    // deno-lint-ignore no-explicit-any
    const p = params as any
    switch (method) {
      case opNames.register: {
        const uuid: AgentUuid = p.uuid
        const kinds: ContainerKind[] = p.kinds
        const endpoint = endpointOrNothing(p.endpoint)
        const record = { agentId: uuid, containers: p.containers ?? [], kinds, endpoint }
        await send(await this.network.register(record, unreachableAgent(uuid, kinds, endpoint)))
        return
      }
      case opNames.unregister:
        await this.network.unregister(p.uuid)
        await send('ok')
        return
      case opNames.getAgents:
        await send(await this.network.agents())
        return
      case opNames.getKinds:
        await send(await this.network.kinds())
        return
      case opNames.getContainer:
        await send(await this.network.get(client, p.kind, p.request ?? {}))
        return
      case opNames.releaseContainer:
        await this.network.release(client, p.uuid)
        await send('ok')
        return
      case opNames.listContainers:
        await send(await this.network.list(p.kind))
        return
      case opNames.sendContainer:
        await send(await this.network.request(p[0], p[1], p[2]))
        return
      default:
        throw new UnknownMethodError(`Unknown method ${method}`)
    }
  }

  /** A client said hello: it is known to the network (and alive) from now on. */
  helloHandler(clientId: ClientUuid): Promise<void> {
    if (!this.clients.has(clientId)) {
      logger.info('clients connected: {count}', { count: this.clients.size + 1 })
    }
    this.clients.add(clientId)
    this.network.addClient(clientId)
    return Promise.resolve()
  }

  /** A client pinged: it is alive. */
  onPing(client: ClientUuid): void {
    this.network.ping(client)
  }

  /** A client left (or, with `timeout`, fell silent): its references are dropped. */
  closeHandler(client: ClientUuid, timeout = false): Promise<void> {
    this.clients.delete(client)
    this.network.removeClient(client)
    if (timeout) {
      logger.info('client {client} timed out; {count} left', { client, count: this.clients.size })
    }
    return Promise.resolve()
  }

  /** Stops listening (the network stays open: close it yourself). */
  async close(): Promise<void> {
    await this.rpcServer.close()
  }
}

/** `ref` when it is an agent endpoint reference; nothing (logged) when not: the agent is unreachable anyway. */
function endpointOrNothing(ref: unknown): AgentEndpointRef | undefined {
  if (ref === undefined) return undefined
  try {
    parseEndpointRef(ref as AgentEndpointRef)
    return ref as AgentEndpointRef
  } catch {
    logger.debug('register: {ref} is not an endpoint reference; left out', { ref })
    return undefined
  }
}

/** The agent of a register operation answered by `requestHandler`: known, never reachable. */
function unreachableAgent(
  uuid: AgentUuid,
  kinds: ContainerKind[],
  endpoint: AgentEndpointRef | undefined,
): NetworkAgent {
  const fail = (): Promise<never> =>
    Promise.reject(
      new NotConnectedError(
        `agent ${uuid} was registered through NetworkServer.requestHandler: it cannot be reached`,
      ),
    )
  return {
    uuid,
    kinds,
    endpoint,
    get: (_kind: ContainerKind, _options: GetOptions) => fail(),
    getContainer: (_uuid: ContainerUuid) => Promise.resolve(undefined),
    list: (_kind?: ContainerKind): Promise<ContainerRecord[]> => Promise.resolve([]),
    request: () => fail(),
    terminate: () => fail(),
  }
}
