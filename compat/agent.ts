/**
 * huly.net's agent: `new AgentImpl(uuid, factories)`, `get(kind, options)` →
 * `[uuid, endpoint]`, a `kinds` property and stateless containers, on this
 * library's `AgentImpl`.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type { ServedAgent } from '../client/mod.ts'
import { AgentImpl as ModernAgentImpl } from '../core/agent.ts'
import type {
  AgentUuid,
  ClientUuid,
  Container as ModernContainer,
  ContainerFactory as ModernFactory,
  ContainerKind,
  ContainerUuid,
  StartOptions,
} from '../core/types.ts'
import { agentAddress, fromCompatRef, toCompatRef } from './endpoints.ts'
import { type ContainerRecord, type GetOptions, toCompatRecord, toLabels } from './records.ts'
import type { AgentEndpointRef, ContainerEndpointRef } from './types.ts'
import { containerUuid } from './utils.ts'
import type { Network } from './network.ts'

const logger = getLogger(['huly-network', 'compat', 'agent'])

/**
 * A container, huly.net's shape: `broadcast` returns a promise.
 *
 * @example
 * ```ts
 * import type { Container } from '@huly/network/compat'
 * const echo: Container = {
 *   request: (operation, data) => Promise.resolve({ operation, data }),
 *   terminate: () => Promise.resolve(),
 *   ping: () => Promise.resolve(),
 *   connect: () => {},
 *   disconnect: () => {},
 * }
 * ```
 */
export interface Container {
  /** Answers one request. */
  request(operation: string, data?: unknown, clientId?: ClientUuid): Promise<unknown>
  /** Called when it is terminated. */
  onTerminated?: () => void
  /** Stops it. */
  terminate(): Promise<void>
  /** A liveness check. */
  ping(): Promise<void>
  /** A client connected; `broadcast` sends it events. */
  connect(clientId: ClientUuid, broadcast: (data: unknown) => Promise<void>): void
  /** A client went away. */
  disconnect(clientId: ClientUuid): void
}

/**
 * Starts a container: huly.net's factory. It may also return `[container, endpoint]`.
 *
 * @example
 * ```ts
 * import type { ContainerFactory } from '@huly/network/compat'
 * const echo: ContainerFactory = (options) => Promise.resolve({
 *   uuid: options.uuid!,
 *   container: { request: (_op, data) => Promise.resolve(data), terminate: async () => {}, ping: async () => {}, connect: () => {}, disconnect: () => {} },
 *   endpoint: '' as never,
 * })
 * ```
 */
export type ContainerFactory = (
  options: GetOptions,
  agentEndpoint?: AgentEndpointRef,
) => Promise<
  | { uuid: ContainerUuid; container: Container; endpoint: ContainerEndpointRef }
  | [Container, ContainerEndpointRef?]
>

/**
 * huly.net's agent interface, as the network sees an agent.
 *
 * @example
 * ```ts
 * import { AgentImpl, type NetworkAgent } from '@huly/network/compat'
 * import type { AgentUuid } from '@huly/network/core'
 * const agent: NetworkAgent = new AgentImpl('a1' as AgentUuid, {})
 * ```
 */
export interface NetworkAgent {
  /** Its uuid. */
  uuid: AgentUuid
  /** Its endpoint. */
  endpoint?: AgentEndpointRef
  /** The kinds it starts. */
  kinds: ContainerKind[]
  /** Starts or finds a container. */
  get(kind: ContainerKind, options: GetOptions): Promise<[ContainerUuid, ContainerEndpointRef]>
  /** The instance of one of its containers. */
  getContainer(uuid: ContainerUuid): Promise<Container | undefined>
  /** Its containers. */
  list(kind?: ContainerKind): Promise<ContainerRecord[]>
  /** Sends a request to one of its containers. */
  request(target: ContainerUuid, operation: string, data?: unknown): Promise<unknown>
  /** Terminates one of its containers. */
  terminate(container: ContainerUuid): Promise<void>
}

/** Where a `NetworkAgentServer` serves an agent: bound when the agent is registered. */
export interface AgentServing {
  /** The address to bind, `tcp://host:port`. */
  bind: string
  /** The address clients use, unless the port is picked at bind time. */
  advertise?: string
  /** Set once it is served. */
  done?: boolean
  /** Told the served agent once bound. */
  served(served: ServedAgent): void
}

const servings = new WeakMap<AgentImpl, AgentServing>()

/** Marks `agent` to be served on `serving` when registered (used by `NetworkAgentServer`). */
export function serveOn(agent: AgentImpl, serving: AgentServing): void {
  servings.set(agent, serving)
}

/** Where `agent` is to be served, if a `NetworkAgentServer` started it. */
export function servingOf(agent: AgentImpl): AgentServing | undefined {
  return servings.get(agent)
}

/**
 * huly.net's agent, backed by this library's `AgentImpl` (`modern()`), which
 * exists from the first use on.
 *
 * @example
 * ```ts
 * import { AgentImpl, type ContainerFactory } from '@huly/network/compat'
 * import type { AgentUuid, ContainerKind } from '@huly/network/core'
 * const echo: ContainerFactory = async (options) => [{
 *   request: async (_op, data) => data, terminate: async () => {}, ping: async () => {},
 *   connect: () => {}, disconnect: () => {},
 * }]
 * const agent = new AgentImpl('agent-1' as AgentUuid, { echo })
 * const [uuid] = await agent.get('echo' as ContainerKind, {})
 * console.assert(await agent.request(uuid, 'op', 42) === 42)
 * ```
 */
export class AgentImpl implements NetworkAgent {
  /** Its endpoint: set by `NetworkAgentServer.start`, before the first use. */
  endpoint?: AgentEndpointRef
  readonly #factories: Record<string, ContainerFactory>
  readonly #stateless = new Map<
    ContainerUuid,
    { kind: ContainerKind; endpoint: ContainerEndpointRef; container: Container }
  >()
  #modern: ModernAgentImpl | undefined
  /** The endpoint strings factories and declarations gave, returned as given. */
  readonly #givenEndpoints = new Map<ContainerUuid, ContainerEndpointRef>()

  /** An agent starting containers with one factory per kind. */
  constructor(readonly uuid: AgentUuid, factories: Record<string, ContainerFactory>) {
    this.#factories = factories
  }

  /** The kinds it has factories for. */
  get kinds(): ContainerKind[] {
    return Object.keys(this.#factories) as ContainerKind[]
  }

  /** Its factories, as this library's agent takes them. */
  modernFactories(): Record<string, ModernFactory> {
    const adapted: Record<string, ModernFactory> = {}
    for (const [kind, factory] of Object.entries(this.#factories)) {
      adapted[kind] = (start) => this.#start(factory, start)
    }
    return adapted
  }

  /** The stateless containers added and not yet announced, as `serveAgent` takes them. */
  statelessDeclarations(): Array<{ options: StartOptions; container: ModernContainer }> {
    return [...this.#stateless].map(([uuid, { kind, container }]) => ({
      options: { uuid, kind, labels: [] },
      container: adaptContainer(container),
    }))
  }

  /** This library's agent behind it (created on first use unless `adopt`ed). */
  modern(): ModernAgentImpl {
    if (this.#modern === undefined) {
      this.adopt(
        new ModernAgentImpl(this.uuid, this.modernFactories(), {
          endpoint: agentAddress(this.endpoint),
        }),
      )
    }
    return this.#modern!
  }

  /** Uses `agent` (made by `serveAgent` from `modernFactories()`) from now on. */
  adopt(agent: ModernAgentImpl): void {
    this.#modern = agent
    for (const [uuid, { kind, endpoint, container }] of this.#stateless) {
      if (agent.getContainer(uuid) === undefined) {
        agent.declareStateless(
          { uuid, kind, labels: [] },
          adaptContainer(container),
          fromCompatRef(endpoint, true),
        )
      }
    }
    this.#stateless.clear()
  }

  /**
   * Adds a container it runs itself, of which several agents may declare the
   * same uuid (high availability); announced at the next registration.
   */
  addStatelessContainer(
    uuid: ContainerUuid,
    kind: ContainerKind,
    endpoint: ContainerEndpointRef,
    container: Container,
  ): void {
    this.#remember(uuid, endpoint)
    if (this.#modern !== undefined) {
      this.#modern.declareStateless(
        { uuid, kind, labels: [] },
        adaptContainer(container),
        fromCompatRef(endpoint, true),
      )
    } else {
      this.#stateless.set(uuid, { kind, endpoint, container })
    }
  }

  /** Forgets a stateless container (terminating it if it was announced). */
  removeStatelessContainer(uuid: ContainerUuid): void {
    if (this.#stateless.delete(uuid)) return
    if (this.#modern?.getRecord(uuid)?.stateless) {
      this.#modern.terminate(uuid).catch((error) =>
        logger.warn('stateless {uuid} failed to terminate: {error}', { uuid, error })
      )
    }
  }

  /** Registers it with an in-process `network`. */
  async register(network: Network): Promise<void> {
    await network.register(
      {
        agentId: this.uuid,
        containers: await this.list(),
        kinds: this.kinds,
        endpoint: this.endpoint,
      },
      this,
    )
  }

  /** The endpoint string given for `uuid` by its factory or declaration, if it gave one. */
  endpointOf(uuid: ContainerUuid): ContainerEndpointRef | undefined {
    return this.#givenEndpoints.get(uuid)
  }

  #remember(uuid: ContainerUuid, endpoint: unknown): void {
    if (typeof endpoint === 'string' && endpoint !== '') {
      this.#givenEndpoints.set(uuid, endpoint as ContainerEndpointRef)
    }
  }

  /** Its containers, with huly.net's records. */
  list(kind?: ContainerKind): Promise<ContainerRecord[]> {
    const live = this.#modern?.list(kind).map((record) => {
      const compat = toCompatRecord(record)
      return { ...compat, endpoint: this.endpointOf(record.uuid) ?? compat.endpoint }
    }) ?? []
    const pending = [...this.#stateless].filter(([, it]) => kind === undefined || it.kind === kind)
      .map(([uuid, it]) => ({
        agentId: this.uuid,
        uuid,
        kind: it.kind,
        endpoint: it.endpoint,
        lastVisit: Date.now(),
      }))
    return Promise.resolve([...live, ...pending])
  }

  /** The instance of one of its containers. */
  getContainer(uuid: ContainerUuid): Promise<Container | undefined> {
    const adapted = this.#modern?.getContainer(uuid)
    const container = adapted === undefined
      ? this.#stateless.get(uuid)?.container
      : originals.get(adapted) ?? adapted as Container
    return Promise.resolve(container)
  }

  /**
   * The container with `options.uuid`, or one of `kind` carrying the labels, or a
   * new one: `[uuid, endpoint]`.
   */
  async get(
    kind: ContainerKind,
    options: GetOptions,
  ): Promise<[ContainerUuid, ContainerEndpointRef]> {
    const agent = this.modern()
    const labels = toLabels(options.labels) ?? []
    let uuid = options.uuid
    if (uuid === undefined) {
      uuid = agent.list(kind).find((record) =>
        labels.every((l) => record.labels.includes(l))
      )?.uuid ??
        containerUuid()
    }
    const started = await agent.get({ uuid, kind, labels, extra: options.extra })
    return [
      started.uuid,
      this.endpointOf(started.uuid) ?? toCompatRef(started.endpoint, started.uuid, this.uuid),
    ]
  }

  /** Sends a request to one of its containers. */
  request(target: ContainerUuid, operation: string, data?: unknown): Promise<unknown> {
    return this.modern().request(target, operation, data)
  }

  /** Terminates one of its containers. */
  async terminate(uuid: ContainerUuid): Promise<void> {
    const stateless = this.#stateless.get(uuid)
    this.#stateless.delete(uuid)
    this.#givenEndpoints.delete(uuid)
    await stateless?.container.terminate()
    await this.#modern?.terminate(uuid)
  }

  async #start(factory: ContainerFactory, start: StartOptions): Promise<
    { uuid: ContainerUuid; container: ModernContainer; endpoint?: ReturnType<typeof fromCompatRef> }
  > {
    const made = await factory(
      { uuid: start.uuid, labels: start.labels, extra: start.extra },
      this.endpoint,
    )
    const [uuid, container, endpoint] = Array.isArray(made)
      ? [start.uuid, made[0], made[1]]
      : [made.uuid, made.container, made.endpoint]
    this.#remember(start.uuid, endpoint)
    if (uuid !== start.uuid) {
      logger.debug('factory named container {uuid} {named}; the network named it first', {
        uuid: start.uuid,
        named: uuid,
      })
    }
    return {
      uuid: start.uuid,
      container: adaptContainer(container),
      endpoint: fromCompatRef(endpoint),
    }
  }
}

/** The huly.net containers behind the adapted ones, for `getContainer`. */
const originals = new WeakMap<ModernContainer, Container>()

/** Our container of a huly.net one: its `broadcast` returns a promise. */
export function adaptContainer(container: Container): ModernContainer {
  const adapted: ModernContainer = {
    request: (operation, data, clientId) => container.request(operation, data, clientId),
    connect: container.connect && ((clientId, broadcast) =>
      container.connect(clientId, (data) => {
        broadcast(data)
        return Promise.resolve()
      })),
    disconnect: container.disconnect && ((clientId) => container.disconnect(clientId)),
    terminate: container.terminate && (() => container.terminate()),
    ping: container.ping && (() => container.ping()),
    get onTerminated() {
      return container.onTerminated
    },
  }
  originals.set(adapted, container)
  return adapted
}
