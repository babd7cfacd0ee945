/**
 * huly.net's client: `createNetworkClient(url, aliveTimeout?)`, synchronous, whose
 * calls wait for the connection; `NetworkAgentServer`; `serveAgent`. On this
 * library's client.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import { createNetworkClient as createModernClient } from '../client/mod.ts'
import type { NetworkClient as ModernClient, ServedAgent } from '../client/mod.ts'
import type { TickManager } from '../common/clock.ts'
import { InvalidArgumentError, NoAgentError, TimeoutError } from '../common/errors.ts'
import type { AgentUuid, ClientUuid, ContainerKind, ContainerUuid } from '../core/types.ts'
import { AgentImpl, type Container, type ContainerFactory, serveOn, servingOf } from './agent.ts'
import { agentDirectRef } from './endpoints.ts'
import {
  type AgentRecordInfo,
  type ContainerRecord,
  type GetOptions,
  NetworkEventKind,
  type NetworkUpdateListener,
  toCompatAgentInfo,
  toCompatEvent,
  toCompatRecord,
  toLabels,
} from './records.ts'
import { bindHost } from './server.ts'
import { CompatReference, type ContainerReference } from './connection.ts'
import type { AgentEndpointRef, ContainerEndpointRef } from './types.ts'
import { modernTimeouts, TickManagerImpl, timeouts } from './utils.ts'

const logger = getLogger(['huly-network', 'compat', 'client'])

/** How long a call waits for the first connection (huly.net waits forever). */
const CONNECT_TIMEOUT_MS = 30_000

/**
 * A stateless container an agent declares when served (see `serveAgent`).
 *
 * @example
 * ```ts
 * import type { StatelessContainerConfig } from '@huly/network/compat'
 * const show = (config: StatelessContainerConfig) => `${config.kind}/${config.uuid}`
 * ```
 */
export interface StatelessContainerConfig {
  /** Its uuid, shared by the agents declaring it. */
  uuid: ContainerUuid
  /** Its kind. */
  kind: ContainerKind
  /** Its endpoint reference. */
  endpoint: ContainerEndpointRef
  /** The instance. */
  container: Container
}

/**
 * Makes the stateless containers of an agent, given its endpoint.
 *
 * @example
 * ```ts
 * import type { StatelessContainersFactory } from '@huly/network/compat'
 * const none: StatelessContainersFactory = () => []
 * ```
 */
export type StatelessContainersFactory = (
  agentEndpoint: AgentEndpointRef,
) => StatelessContainerConfig[] | Promise<StatelessContainerConfig[]>

/**
 * Serves an agent on `bindHost:port`, known to others as `endpointHost:port`
 * (`port` 0 or `'random'` picks a free one). It binds when the agent is
 * registered (`client.register(agent)`).
 *
 * @example
 * ```ts ignore
 * import { AgentImpl, createNetworkClient, NetworkAgentServer, TickManagerImpl } from '@huly/network/compat'
 * import type { AgentUuid } from '@huly/network/core'
 * const tick = new TickManagerImpl(20)
 * const agent = new AgentImpl('agent-1' as AgentUuid, {})
 * const server = new NetworkAgentServer(tick, 'localhost', '*', 3738)
 * await server.start(agent)
 * await createNetworkClient('localhost:3737').register(agent)
 * ```
 */
export class NetworkAgentServer {
  #served: ServedAgent | undefined
  #port: number

  /** A server for one agent. */
  constructor(
    _tickManager: TickManager,
    readonly endpointHost: string,
    readonly host: string = '*',
    port: number | 'random' = 3738,
  ) {
    this.#port = port === 'random' ? 0 : port
  }

  /** Gives `agent` its endpoint; it is served from its registration on. */
  start(agent: AgentImpl): Promise<void> {
    const port = this.#port
    serveOn(agent, {
      bind: `tcp://${bindHost(this.host)}:${port}`,
      ...(port === 0 ? {} : { advertise: `tcp://${this.endpointHost}:${port}` }),
      served: (served) => {
        this.#served = served
        this.#port = Number(served.endpoint.slice(served.endpoint.lastIndexOf(':') + 1))
        agent.endpoint = agentDirectRef(this.endpointHost, this.#port, agent.uuid)
      },
    })
    agent.endpoint = agentDirectRef(this.endpointHost, port, agent.uuid)
    return Promise.resolve()
  }

  /** The port it serves on (known once bound, for a picked one). */
  getPort(): Promise<number> {
    return Promise.resolve(this.#port)
  }

  /** Stops serving: the agent's containers end and it is unregistered. */
  async close(): Promise<void> {
    await this.#served?.close()
    this.#served = undefined
  }
}

/**
 * A reference a huly.net client holds, with how it was got (its entry in
 * `references`).
 *
 * @example
 * ```ts
 * import type { HeldReference } from '@huly/network/compat'
 * const describe = (held: HeldReference) => `${held.kind} ${held.ref.uuid} at ${held.endpoint}`
 * ```
 */
export interface HeldReference {
  /** The reference. */
  ref: ContainerReference
  /** The kind it was got as. */
  kind: ContainerKind
  /** The options of the get. */
  request: GetOptions
  /** Where the container was, when it was got. */
  endpoint: ContainerEndpointRef
}

/**
 * huly.net's client: calls wait for the connection (up to 30 s), `get` waits
 * for an agent of the kind, agents are served with `register` or `serveAgent`.
 *
 * @example
 * ```ts ignore
 * import { createNetworkClient } from '@huly/network/compat'
 * using client = createNetworkClient('localhost:3737')
 * const ref = await client.get('session' as never, {})
 * console.log(await ref.request('hello', {}))
 * await ref.close()
 * ```
 */
export class NetworkClientWithAgents implements Disposable, AsyncDisposable {
  /** The client's uuid. */
  readonly clientId: ClientUuid
  /** The listeners of {@link NetworkClientWithAgents.onUpdate}, by subscription number. */
  readonly containerListeners: Map<number, NetworkUpdateListener> = new Map()
  /** The references this client holds by container uuid: a get of a uuid held returns it. */
  readonly references: Map<ContainerUuid, HeldReference> = new Map()
  #nextListener = 0
  readonly #client: Promise<ModernClient>
  /** The agent servers `serveAgent` started, by endpoint; kept (closed) after `close`. */
  readonly servers: Array<[string, NetworkAgentServer]> = []
  readonly #tick = new TickManagerImpl(timeouts.pingInterval * 2)

  /** Connects to `host:port` in the background. */
  constructor(url: string, aliveTimeout?: number) {
    this.clientId = crypto.randomUUID() as ClientUuid
    const address = url.includes(':') ? url : `${url}:3737`
    this.#client = createModernClient(address, {
      clientId: this.clientId,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      timeouts: modernTimeouts(aliveTimeout),
    })
    this.#client.then((client) => client.onUpdate((event) => this.#publish(event)), () => {})
  }

  /** Gives a network event to every listener; one that throws is logged, the rest go on. */
  #publish(event: Parameters<Parameters<ModernClient['onUpdate']>[0]>[0]): void {
    const compat = toCompatEvent(event)
    for (const listener of [...this.containerListeners.values()]) {
      Promise.resolve()
        .then(() => listener(compat))
        .catch((error) => logger.error('an onUpdate listener failed: {error}', { error }))
    }
  }

  /** This library's client behind it. */
  modern(): Promise<ModernClient> {
    return this.#client
  }

  /** Registers `agent`, served where its `NetworkAgentServer` says, if one started it. */
  async register(agent: AgentImpl): Promise<void> {
    const client = await this.#client
    const serving = servingOf(agent)
    if (serving === undefined || serving.done) {
      await client.register(agent.modern())
      return
    }
    serving.done = true
    const served = await client.serveAgent(serving.bind, agent.modernFactories(), {
      agentId: agent.uuid,
      stateless: agent.statelessDeclarations(),
      ...(serving.advertise === undefined ? {} : { advertise: serving.advertise }),
    })
    agent.adopt(served.agent)
    serving.served(served)
  }

  /**
   * Creates an agent with `factories`, serves it on `endpointUrl` (`host:port`,
   * bound on every interface) and registers it; `statelessContainers` adds its
   * stateless containers first.
   */
  async serveAgent(
    endpointUrl: string,
    factories: Record<string, ContainerFactory>,
    statelessContainers?: StatelessContainersFactory,
  ): Promise<void> {
    if (this.servers.some(([url]) => url === endpointUrl)) {
      throw new InvalidArgumentError(`Agent server already running at ${endpointUrl}`)
    }
    const [host, port] = endpointUrl.split(':')
    const agent = new AgentImpl(crypto.randomUUID() as AgentUuid, factories)
    const server = new NetworkAgentServer(
      this.#tick,
      host,
      '*',
      port === undefined ? 3738 : Number(port),
    )
    this.servers.push([endpointUrl, server])
    await server.start(agent)
    for (const config of (await statelessContainers?.(agent.endpoint!)) ?? []) {
      agent.addStatelessContainer(config.uuid, config.kind, config.endpoint, config.container)
    }
    await this.register(agent)
  }

  /** The agents. */
  async agents(): Promise<AgentRecordInfo[]> {
    return (await (await this.#client).agents()).map(toCompatAgentInfo)
  }

  /** The kinds the agents start. */
  async kinds(): Promise<ContainerKind[]> {
    return await (await this.#client).kinds()
  }

  /**
   * A reference to a container of `kind`, waiting until an agent of that kind is
   * there. `get(uuid, { kind })` (the huly.net README's form) gets that uuid.
   */
  async get(kind: ContainerKind, options: GetOptions = {}): Promise<ContainerReference> {
    const byUuid = typeof options.kind === 'string'
    const uuid = byUuid ? kind as string as ContainerUuid : options.uuid
    const held = uuid === undefined ? undefined : this.references.get(uuid)
    if (held !== undefined) return held.ref
    const client = await this.#client
    const query = { uuid, labels: toLabels(options.labels), extra: options.extra }
    const target = byUuid ? options.kind as ContainerKind : kind
    for (;;) {
      try {
        const modern = await client.get(target, query)
        const ref = new CompatReference(modern, () => this.references.delete(modern.uuid))
        this.references.set(modern.uuid, {
          kind: target,
          ref,
          request: options,
          endpoint: ref.endpoint,
        })
        return ref
      } catch (error) {
        if (!(error instanceof NoAgentError)) throw error
        logger.info('no agent of kind {kind} yet; waiting for one', { kind: target })
        await this.#agentOfKind(client, target)
      }
    }
  }

  /** The containers. */
  async list(kind?: ContainerKind): Promise<ContainerRecord[]> {
    return (await (await this.#client).list(kind)).map((record) => toCompatRecord(record))
  }

  /** Sends a request to a container through the network. */
  async request(target: ContainerUuid, operation: string, data?: unknown): Promise<unknown> {
    return await (await this.#client).request(target, operation, data)
  }

  /** Calls `listener` with every network event; returns the unsubscribe function. */
  onUpdate(listener: NetworkUpdateListener): () => void {
    const id = this.#nextListener++
    this.containerListeners.set(id, listener)
    return () => this.containerListeners.delete(id)
  }

  /** Waits for the connection, at most `timeout` ms when given. */
  async waitConnection(timeout?: number): Promise<void> {
    try {
      await (await this.#client).waitConnection(timeout)
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error
      throw new TimeoutError('Connection timeout', { cause: error })
    }
  }

  /** Closes the client and the agents it serves. */
  async close(): Promise<void> {
    for (const [, server] of this.servers) await server.close()
    this.#tick.stop()
    await (await this.#client.catch(() => undefined))?.close()
  }

  /** Closes it in the background (`using`). */
  [Symbol.dispose](): void {
    this.close().catch((error) => logger.warn('closing the client failed: {error}', { error }))
  }

  /** Closes it (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** Resolves when an agent of `kind` registers or after a ping interval. */
  #agentOfKind(client: ModernClient, kind: string): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>()
    const stop = client.onUpdate((event) => {
      const compat = toCompatEvent(event)
      const came = compat.agents.some((agent) =>
        agent.event !== NetworkEventKind.removed && agent.kinds.includes(kind as ContainerKind)
      )
      if (came) resolve()
    })
    const timer = setTimeout(resolve, timeouts.pingInterval * 1000)
    return promise.finally(() => {
      clearTimeout(timer)
      stop()
    })
  }
}

/**
 * huly.net's client class, made with a host and a port: the same client as
 * `createNetworkClient(`${host}:${port}`, aliveTimeout)`. The tick manager is
 * accepted and not used: the client pings on a clock of its own.
 *
 * @example
 * ```ts ignore
 * import { NetworkClientImpl, TickManagerImpl } from '@huly/network/compat'
 * const client = new NetworkClientImpl('localhost', 3737, new TickManagerImpl(10))
 * console.log(await client.kinds())
 * await client.close()
 * ```
 */
export class NetworkClientImpl extends NetworkClientWithAgents {
  /** Connects to `host:port` in the background; `aliveTimeout` in seconds. */
  constructor(readonly host: string, port: number, _tickMgr?: TickManager, aliveTimeout?: number) {
    super(`${host}:${port}`, aliveTimeout)
  }
}

/**
 * Connects to the network at `url` (`host:port`; 3737 when the port is left out).
 * Synchronous, as in huly.net: calls wait for the connection.
 *
 * @example
 * ```ts ignore
 * import { createNetworkClient } from '@huly/network/compat'
 * const client = createNetworkClient('localhost:3737')
 * console.log(await client.kinds())
 * await client.close()
 * ```
 */
export function createNetworkClient(url: string, aliveTimeout?: number): NetworkClientWithAgents {
  return new NetworkClientWithAgents(url, aliveTimeout)
}
