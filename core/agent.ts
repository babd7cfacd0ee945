/**
 * An agent: hosts containers of the kinds its factories start.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import { networkEndpoint, parseEndpointRef, routedEndpoint } from './endpoint.ts'
import {
  ClosedError,
  ContainerMovingError,
  ContainerNotFoundError,
  InvalidArgumentError,
  NoAgentError,
  ProtocolError,
} from '../common/errors.ts'
import type {
  AgentRegistration,
  AgentUuid,
  ClientUuid,
  Container,
  ContainerFactory,
  ContainerKind,
  ContainerRecord,
  ContainerUuid,
  EndpointRef,
  MoveOutOptions,
  MoveOutResult,
  NetworkAgent,
  StartOptions,
} from './types.ts'
import {
  requireFunction,
  requireId,
  requireLabels,
  requireObject,
  requireRecord,
} from '../common/validate.ts'

const logger = getLogger(['huly-network', 'core', 'agent'])

/**
 * Options of {@link AgentImpl}.
 *
 * @example
 * ```ts
 * import type { AgentOptions } from '@huly/network/core'
 * const options: AgentOptions = { endpoint: 'tcp://127.0.0.1:3738' }
 * ```
 */
export interface AgentOptions {
  /** The agent's own endpoint; its containers are then reached `routed` through it. */
  endpoint?: string
  /** The CURVE public key of that endpoint, when it encrypts; clients need it to connect. */
  publicKey?: string
}

interface HostedContainer {
  record: ContainerRecord
  container: Container
  /** Requests it is answering now. */
  inFlight: number
  /** It is moving away: new requests are refused with `ContainerMovingError`. */
  leaving: boolean
  /** Called when `inFlight` drops to 0 while it leaves. */
  idle?: () => void
}

/**
 * An agent in process: starts containers with one factory per kind (each uuid
 * once, even under concurrent gets), routes requests to them and terminates them.
 *
 * @example
 * ```ts
 * import { AgentImpl, type AgentUuid, type ContainerKind, type ContainerUuid } from '@huly/network/core'
 * const agent = new AgentImpl('agent-1' as AgentUuid, {
 *   echo: (options) =>
 *     Promise.resolve({
 *       uuid: options.uuid,
 *       container: {
 *         request: (_op, data) => Promise.resolve(data),
 *       },
 *     }),
 * })
 * const uuid = 'c1' as ContainerUuid
 * await agent.get({ uuid, kind: 'echo' as ContainerKind, labels: [] })
 * console.assert(await agent.request(uuid, 'echo', 'hi') === 'hi')
 * await agent.close()
 * ```
 */
export class AgentImpl implements NetworkAgent {
  /** The agent's uuid. */
  readonly uuid: AgentUuid
  /** The agent's own endpoint, if it has one. */
  readonly endpoint: string | undefined
  /** The CURVE public key of its endpoint, if it encrypts. */
  readonly publicKey: string | undefined
  private readonly factories: Map<ContainerKind, ContainerFactory>
  private readonly containers = new Map<ContainerUuid, HostedContainer>()
  private readonly starting = new Map<ContainerUuid, Promise<HostedContainer>>()
  private closed = false

  /** Creates an agent with one factory per kind. */
  constructor(
    uuid: AgentUuid,
    factories: Record<string, ContainerFactory>,
    options: AgentOptions = {},
  ) {
    this.uuid = requireId(uuid, 'agent uuid')
    requireObject(factories, 'factories')
    this.factories = new Map()
    for (const [kind, factory] of Object.entries(factories)) {
      requireId(kind, 'factory kind')
      this.factories.set(kind as ContainerKind, requireFunction(factory, `factory "${kind}"`))
    }
    requireRecord(options, 'options')
    this.endpoint = options.endpoint === undefined
      ? undefined
      : requireId(options.endpoint, 'endpoint')
    this.publicKey = options.publicKey
  }

  /** The kinds this agent starts, and those of the stateless containers it declares. */
  kinds(): ContainerKind[] {
    const kinds = new Set(this.factories.keys())
    for (const { record } of this.containers.values()) if (record.stateless) kinds.add(record.kind)
    return [...kinds]
  }

  /** Starts the container (once per uuid), or returns the live one. */
  async get(options: StartOptions): Promise<{ uuid: ContainerUuid; endpoint: EndpointRef }> {
    if (typeof options === 'string') {
      throw new InvalidArgumentError(
        "agent.get takes { uuid, kind, labels }, got a kind; huly.net's agent.get(kind, options) is AgentImpl of @huly/network/compat",
      )
    }
    const hosted = await this.#startOnce(options)
    return { uuid: hosted.record.uuid, endpoint: hosted.record.endpoint }
  }

  /**
   * Declares a "stateless" high-availability container that this agent runs itself,
   * with no factory: several agents may declare one uuid; the network serves the
   * first and keeps the others standing by. It is announced at the next
   * registration.
   */
  declareStateless(
    options: StartOptions,
    container: Container,
    endpoint?: EndpointRef,
  ): ContainerRecord {
    if (this.closed) throw new ClosedError(`agent "${this.uuid}" is closed`)
    requireObject(options, 'start options')
    const uuid = requireId<ContainerUuid>(options.uuid, 'uuid')
    requireFunction(container?.request, 'container.request')
    if (this.containers.has(uuid) || this.starting.has(uuid)) {
      throw new InvalidArgumentError(`agent "${this.uuid}" already hosts "${uuid}"`)
    }
    const record = this.#makeRecord(options, endpoint, true)
    this.containers.set(uuid, { record, container, inFlight: 0, leaving: false })
    return { ...record }
  }

  /** The container instance with this uuid, if this agent hosts it. */
  getContainer(uuid: ContainerUuid): Container | undefined {
    return this.containers.get(uuid)?.container
  }

  /** The record of a container this agent hosts. */
  getRecord(uuid: ContainerUuid): ContainerRecord | undefined {
    const record = this.containers.get(uuid)?.record
    return record === undefined ? undefined : { ...record }
  }

  /** Records of the containers this agent hosts, of one kind or all. */
  list(kind?: ContainerKind): ContainerRecord[] {
    return [...this.containers.values()]
      .filter(({ record }) => kind === undefined || record.kind === kind)
      .map(({ record }) => ({ ...record }))
  }

  /** What to tell the network when registering. */
  registration(): AgentRegistration {
    return {
      agentId: this.uuid,
      kinds: [...this.factories.keys()],
      ...(this.endpoint === undefined ? {} : { endpoint: this.endpoint }),
      containers: this.list(),
    }
  }

  /** Sends a request to a hosted container. */
  async request(
    uuid: ContainerUuid,
    operation: string,
    data: unknown,
    clientId?: ClientUuid,
  ): Promise<unknown> {
    requireId(operation, 'operation')
    const hosted = this.containers.get(requireId<ContainerUuid>(uuid, 'uuid'))
    if (hosted === undefined) {
      throw new ContainerNotFoundError(`agent "${this.uuid}" does not host "${uuid}"`)
    }
    if (hosted.leaving) {
      throw new ContainerMovingError(`"${uuid}" is moving away from agent "${this.uuid}"`)
    }
    hosted.inFlight++
    try {
      return await hosted.container.request(operation, data, clientId)
    } finally {
      if (--hosted.inFlight === 0) hosted.idle?.()
    }
  }

  /**
   * Moves a container out: refuses new requests (`ContainerMovingError`), waits for
   * those in flight, calls its `drain(signal)` and `handOver()`, and terminates it.
   * At `options.signal` whatever is left is cut short (logged) and the move goes on.
   * Resolves once it no longer serves, with the state it handed over.
   */
  async moveOut(uuid: ContainerUuid, options: MoveOutOptions): Promise<MoveOutResult> {
    const signal = options?.signal
    if (!(signal instanceof AbortSignal)) {
      throw new InvalidArgumentError('moveOut needs { signal: AbortSignal }')
    }
    const hosted = this.containers.get(requireId<ContainerUuid>(uuid, 'uuid'))
    if (hosted === undefined) return {}
    hosted.leaving = true
    const { container } = hosted
    const step = async <T>(
      what: string,
      work: () => Promise<T> | undefined,
    ): Promise<T | undefined> => {
      try {
        const result = await untilAborted(work(), signal)
        if (result.aborted) {
          logger.warn('{what} of {uuid} did not finish by the drain deadline; the move goes on', {
            what,
            uuid,
          })
        }
        return result.value
      } catch (error) {
        logger.warn('{what} of {uuid} failed; the move goes on: {error}', { what, uuid, error })
        return undefined
      }
    }
    await step('finishing requests in flight', () => this.#idle(hosted))
    await step('drain', () => container.drain?.(signal))
    const handedOver = await step('handOver', () => container.handOver?.())
    this.containers.delete(uuid)
    await step('terminate', () => container.terminate?.())
    this.#notifyTerminated(uuid, container)
    return handedOver === undefined ? {} : { handedOver }
  }

  /** Resolves when the container answers no request. */
  #idle(hosted: HostedContainer): Promise<void> | undefined {
    if (hosted.inFlight === 0) return undefined
    const { promise, resolve } = Promise.withResolvers<void>()
    hosted.idle = resolve
    return promise
  }

  /** Terminates a hosted container once; unknown uuids are ignored. */
  async terminate(uuid: ContainerUuid): Promise<void> {
    const hosted = this.containers.get(uuid)
    if (hosted === undefined) return
    this.containers.delete(uuid)
    await terminateQuietly(uuid, hosted.container)
    this.#notifyTerminated(uuid, hosted.container)
  }

  #notifyTerminated(uuid: ContainerUuid, container: Container): void {
    try {
      container.onTerminated?.()
    } catch (error) {
      logger.warn('onTerminated of {uuid} failed: {error}', { uuid, error })
    }
  }

  /** Terminates every hosted container; later starts fail with `ClosedError`. */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.containers.keys()].map((uuid) => this.terminate(uuid)))
  }

  #startOnce(options: StartOptions): Promise<HostedContainer> {
    if (this.closed) return Promise.reject(new ClosedError(`agent "${this.uuid}" is closed`))
    requireObject(options, 'start options')
    const uuid = requireId<ContainerUuid>(options.uuid, 'uuid')
    const live = this.containers.get(uuid)
    if (live !== undefined) return Promise.resolve(live)
    let starting = this.starting.get(uuid)
    if (starting === undefined) {
      starting = this.#startContainer(options)
        .finally(() => this.starting.delete(uuid))
      this.starting.set(uuid, starting)
    }
    return starting
  }

  async #startContainer(options: StartOptions): Promise<HostedContainer> {
    const record = this.#makeRecord(options, undefined, false)
    const { kind, labels, extra } = record
    const factory = this.factories.get(kind)
    if (factory === undefined) {
      throw new NoAgentError(`agent "${this.uuid}" has no factory for kind "${kind}"`)
    }
    const handedOver = options.handedOver === undefined ? {} : { handedOver: options.handedOver }
    const started = await factory(
      { uuid: options.uuid, kind, labels, extra, ...handedOver },
      this.endpoint,
    )
    const container = started?.container
    try {
      if (started?.uuid !== options.uuid || typeof container?.request !== 'function') {
        throw new ProtocolError(
          `factory "${kind}" must return { uuid: "${options.uuid}", container }`,
        )
      }
      if (started.endpoint !== undefined) record.endpoint = parseEndpointRef(started.endpoint)
      if (this.closed) {
        throw new ClosedError(`agent "${this.uuid}" closed while "${options.uuid}" was starting`)
      }
    } catch (error) {
      // Started but not kept: nobody else could ever terminate it.
      await terminateQuietly(options.uuid, container)
      throw error
    }
    const hosted = { record, container, inFlight: 0, leaving: false }
    this.containers.set(options.uuid, hosted)
    return hosted
  }

  /** A checked record for these options; the endpoint defaults to the agent's own. */
  #makeRecord(
    options: StartOptions,
    endpoint: EndpointRef | undefined,
    stateless: boolean,
  ): ContainerRecord {
    const extra = requireRecord(options.extra, 'extra')
    return {
      uuid: requireId<ContainerUuid>(options.uuid, 'uuid'),
      kind: requireId<ContainerKind>(options.kind, 'kind'),
      agentId: this.uuid,
      endpoint: endpoint !== undefined
        ? parseEndpointRef(endpoint)
        : this.endpoint !== undefined
        ? routedEndpoint(this.endpoint, this.uuid, this.publicKey)
        : networkEndpoint(),
      labels: requireLabels(options.labels),
      ...(extra === undefined ? {} : { extra }),
      ...(stateless ? { stateless: true } : {}),
    }
  }
}

/** Settles with the value of `work`, or with `aborted` when `signal` aborts first. */
async function untilAborted<T>(
  work: Promise<T> | undefined,
  signal: AbortSignal,
): Promise<{ value?: T; aborted: boolean }> {
  if (work === undefined) return { aborted: false }
  if (signal.aborted) {
    abandon(work)
    return { aborted: true }
  }
  const { promise: aborted, resolve } = Promise.withResolvers<{ aborted: true }>()
  const onAbort = () => resolve({ aborted: true })
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const result = await Promise.race([
      work.then((value) => ({ value, aborted: false })),
      aborted,
    ])
    if (result.aborted) abandon(work)
    return result
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Work nobody waits for any more (past the drain deadline): a late failure is logged. */
function abandon(work: Promise<unknown>): void {
  work.catch((error) =>
    logger.debug('work left at the drain deadline failed later: {error}', { error })
  )
}

/** Terminates a container; a failure is logged, never thrown. */
async function terminateQuietly(
  uuid: ContainerUuid,
  container: Partial<Container> | undefined,
): Promise<void> {
  try {
    await container?.terminate?.()
  } catch (error) {
    logger.warn('container {uuid} failed to terminate: {error}', { uuid, error })
  }
}
