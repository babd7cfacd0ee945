// The agent side of a client: serves the coordinator's agent.* requests for the
// agents registered through this client, and the container.* requests of an
// agent's own endpoint.
import { getLogger } from '@logtape/logtape'
import { SpanKind } from '@opentelemetry/api'
import type { AgentImpl } from '../core/agent.ts'
import type { TickManager } from '../common/clock.ts'
import { MAX_HAND_OVER_BYTES } from '../core/drain.ts'
import {
  AgentNotFoundError,
  ContainerNotFoundError,
  HandOverTooLargeError,
  ProtocolError,
  TimeoutError,
} from '../common/errors.ts'
import { dispatcher, type ResultOf } from '../core/operations.ts'
import {
  type AgentMoveOutParams,
  type AgentMoveOutReply,
  AgentOperation,
  type AgentRouteMeta,
  type AgentStartParams,
  ContainerOperation,
  type RouteMeta,
} from '../core/protocol.ts'
import { TracerName, tracingEnabled, withRequestSpan } from '../observability/tracing.ts'
import { ClientMetrics } from './_metrics.ts'
import type { AgentUuid, ClientUuid, ContainerUuid, StartOptions } from '../core/types.ts'
import { decode, encode } from '../rpc/codec.ts'
import type { IncomingRequest, RpcSession } from '../rpc/session.ts'
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

  constructor(readonly sink: EventSink, readonly clock: TickManager) {}

  add(agent: AgentImpl): void {
    this.#agents.set(agent.uuid, new ConnectionTable(agent, this.sink))
  }

  remove(agentId: AgentUuid): void {
    this.#agents.delete(agentId)
  }

  agents(): AgentImpl[] {
    return [...this.#agents.values()].map((table) => table.agent)
  }

  /** Checks the parameters of an agent operation and runs its handler. */
  readonly #dispatch = dispatcher(
    'agent',
    {
      [AgentOperation.start]: (params, request: IncomingRequest) => this.#start(params, request),
      [AgentOperation.terminate]: async ({ agentId, uuid }) => {
        await this.#table(agentId).agent.terminate(uuid)
        return null
      },
      [AgentOperation.moveOut]: (params) =>
        this.#moveOut(this.#table(params.agentId).agent, params),
      [AgentOperation.connect]: ({ agentId, uuid, clientId }) =>
        this.#table(agentId).connect(uuid, clientId),
      [AgentOperation.disconnect]: ({ agentId, uuid, clientId }) =>
        this.#table(agentId).disconnect(uuid, clientId),
    },
    (operation) => new ProtocolError(`unknown agent operation "${operation}"`),
  )

  async handle(request: IncomingRequest): Promise<Uint8Array> {
    if (request.operation === AgentOperation.request) {
      const meta = request.meta as AgentRouteMeta
      const agent = this.#table(meta?.agentId).agent
      return await requestContainer(agent, request, meta.target, meta.operation, meta.clientId)
    }
    return encode(await this.#dispatch(request.operation, decode(request.body), request))
  }

  /** Starts a container with the state handed over to it, in a span when tracing is on. */
  async #start(
    params: AgentStartParams,
    request: IncomingRequest,
  ): Promise<ResultOf<typeof AgentOperation.start>> {
    const agent = this.#table(params.agentId).agent
    const options = withHandedOver(params.options, params.state)
    const start = () => agent.get(options)
    if (!tracingEnabled()) return await start()
    const attributes = {
      'rpc.system': 'huly-network',
      'rpc.method': request.operation,
      'huly.agent.id': agent.uuid,
      'huly.container.uuid': options.uuid,
      'huly.container.kind': options.kind,
    }
    const name = `${request.operation} ${options.kind}`
    return await withRequestSpan(
      TracerName.agent,
      name,
      SpanKind.SERVER,
      request.trace,
      attributes,
      start,
    )
  }

  /** Moves a container out by the deadline; its state comes back encoded, within the limit. */
  async #moveOut(agent: AgentImpl, params: AgentMoveOutParams): Promise<AgentMoveOutReply> {
    const { uuid, deadlineMs } = params
    const controller = new AbortController()
    const cancel = this.clock.schedule(
      () => controller.abort(new TimeoutError(`the drain deadline passed`)),
      deadlineMs,
    )
    let result
    try {
      result = await agent.moveOut(uuid, { signal: controller.signal, deadlineMs })
    } finally {
      cancel()
    }
    if (result.handedOver === undefined) return {}
    let state: Uint8Array
    try {
      state = encode(result.handedOver)
    } catch (error) {
      logger.error('the state {uuid} hands over does not encode; it starts fresh: {error}', {
        uuid,
        error,
      })
      return {}
    }
    if (state.byteLength > MAX_HAND_OVER_BYTES) {
      const error = new HandOverTooLargeError(uuid, state.byteLength, MAX_HAND_OVER_BYTES)
      logger.error('{name}: {message}; it is not handed over and {uuid} starts fresh', {
        name: error.name,
        message: error.message,
        uuid,
      })
      return {}
    }
    return { state }
  }

  #table(agentId: AgentUuid | undefined): ConnectionTable {
    const table = agentId === undefined ? undefined : this.#agents.get(agentId)
    if (table === undefined) throw new AgentNotFoundError(`agent "${agentId}" is not served here`)
    return table
  }
}

/** Start options with the handed-over state decoded; a state that does not decode is dropped. */
function withHandedOver(options: StartOptions, state: Uint8Array | undefined): StartOptions {
  if (state === undefined) return options
  try {
    return { ...options, handedOver: decode(state) }
  } catch (error) {
    logger.error('the state handed over to {uuid} does not decode; it starts fresh: {error}', {
      uuid: options.uuid,
      error,
    })
    return options
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
    return await requestContainer(table.agent, request, meta?.target, meta?.operation, clientId)
  }
  const caller: EndpointCaller = { table, session: request.session, clientId, guard }
  return encode(await dispatchEndpoint(request.operation, decode(request.body), caller))
}

/** Who sent a container.* request, to which agent's table. */
interface EndpointCaller {
  table: ConnectionTable
  session: RpcSession
  clientId: ClientUuid
  guard: EndpointGuard | undefined
}

/** Checks the parameters of a container operation and runs its handler. */
const dispatchEndpoint = dispatcher(
  'container',
  {
    [ContainerOperation.connect]: (
      { uuid },
      { table, session, clientId, guard }: EndpointCaller,
    ) => {
      guard?.checkUse(session, table.agent.getRecord(uuid))
      return table.connect(uuid, clientId)
    },
    [ContainerOperation.disconnect]: ({ uuid }, { table, clientId }) =>
      table.disconnect(uuid, clientId),
  },
  (operation) => new ProtocolError(`unknown container operation "${operation}"`),
)

/**
 * Passes a request to a hosted container; when metrics or tracing are on, timed,
 * in a span of the agent whose child span times the container's own work.
 */
async function requestContainer(
  agent: AgentImpl,
  request: IncomingRequest,
  target: ContainerUuid,
  operation: string,
  clientId: ClientUuid | undefined,
): Promise<Uint8Array> {
  const metrics = ClientMetrics.get()
  if (metrics === undefined && !tracingEnabled()) {
    return encode(await agent.request(target, operation, decode(request.body), clientId))
  }
  const kind = agent.getRecord(target)?.kind ?? ''
  const started = performance.now()
  try {
    const answer = tracingEnabled()
      ? await tracedRequest(agent, request, target, kind, operation, clientId)
      : encode(await agent.request(target, operation, decode(request.body), clientId))
    metrics?.served(kind, (performance.now() - started) / 1000, false)
    return answer
  } catch (error) {
    metrics?.served(kind, (performance.now() - started) / 1000, true)
    throw error
  }
}

function tracedRequest(
  agent: AgentImpl,
  request: IncomingRequest,
  target: ContainerUuid,
  kind: string,
  operation: string,
  clientId: ClientUuid | undefined,
): Promise<Uint8Array> {
  const attributes = {
    'rpc.system': 'huly-network',
    'rpc.method': request.operation,
    'huly.agent.id': agent.uuid,
    'huly.client.id': clientId ?? '',
    'huly.container.uuid': String(target),
    'huly.container.kind': kind,
    'huly.container.operation': String(operation),
  }
  return withRequestSpan(
    TracerName.agent,
    `${request.operation} ${kind}`,
    SpanKind.SERVER,
    request.trace,
    attributes,
    async (trace) => {
      const data = decode(request.body)
      const answer = await withRequestSpan(
        TracerName.agent,
        `container ${kind}.${operation}`,
        SpanKind.INTERNAL,
        trace,
        attributes,
        () => agent.request(target, operation, data, clientId),
      )
      return encode(answer)
    },
  )
}
