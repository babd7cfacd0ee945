// The coordinator's handle on an agent that lives behind an rpc session.
import type { AgentOperations, ParamsOf } from '../core/operations.ts'
import { type AgentMoveOutReply, AgentOperation, type AgentRouteMeta } from '../core/protocol.ts'
import type {
  AgentUuid,
  ClientUuid,
  ContainerUuid,
  EndpointRef,
  MoveOutOptions,
  MoveOutResult,
  NetworkAgent,
  StartOptions,
} from '../core/types.ts'
import { currentTraceparent } from '../observability/tracing.ts'
import { decode, encode } from '../rpc/codec.ts'
import type { IncomingRequest, RequestOptions, RpcSession } from '../rpc/session.ts'

/** How long past the drain deadline the coordinator waits for an agent's moveOut answer. */
const MOVE_OUT_GRACE_MS = 5_000

/** A hand-over as it came from an agent: still encoded, passed on undecoded. */
class EncodedHandOver {
  constructor(readonly bytes: Uint8Array) {}
}

/** A request passed on to a container, its body still encoded. */
export interface ForwardOptions {
  /** The container. */
  target: ContainerUuid
  /** The container's operation. */
  operation: string
  /** The request data, encoded. */
  body: Uint8Array
  /** The client that asked. */
  clientId?: ClientUuid
  /** Its deadline in milliseconds (the session's default when absent). */
  timeoutMs?: number
  /** The incoming request it serves: cancelling that one cancels this one. */
  follows?: IncomingRequest
  /** The W3C `traceparent` of the span it belongs to. */
  trace?: string
}

/** A {@link NetworkAgent} whose calls travel over the session of the client serving it. */
export class RemoteAgent implements NetworkAgent {
  /** Requests routed to the agent so far (counted by the server). */
  requests = 0
  /** Routed requests not answered yet. */
  inFlight = 0

  constructor(readonly uuid: AgentUuid, readonly session: RpcSession) {}

  /** The client connection that serves the agent. */
  get clientId(): ClientUuid {
    return this.session.peerId as ClientUuid
  }

  async get(options: StartOptions): Promise<{ uuid: ContainerUuid; endpoint: EndpointRef }> {
    const { handedOver, ...rest } = options
    const params: ParamsOf<typeof AgentOperation.start> = { agentId: this.uuid, options: rest }
    if (handedOver instanceof EncodedHandOver) params.state = handedOver.bytes
    else if (handedOver !== undefined) params.state = encode(handedOver)
    // Traced when the get that asked for this start is; the network checks the answer.
    const trace = currentTraceparent()
    return decode(await this.#call(AgentOperation.start, params, { trace })) as {
      uuid: ContainerUuid
      endpoint: EndpointRef
    }
  }

  /** The agent cuts its own work at the deadline; its answer is awaited a little longer. */
  async moveOut(uuid: ContainerUuid, options: MoveOutOptions): Promise<MoveOutResult> {
    const params = { agentId: this.uuid, uuid, deadlineMs: options.deadlineMs }
    const reply = decode(
      await this.#call(AgentOperation.moveOut, params, {
        timeoutMs: options.deadlineMs + MOVE_OUT_GRACE_MS,
      }),
    ) as Partial<AgentMoveOutReply> | null
    const state = reply?.state
    if (!(state instanceof Uint8Array)) return {}
    return { handedOver: new EncodedHandOver(state), bytes: state.byteLength }
  }

  async terminate(uuid: ContainerUuid): Promise<void> {
    await this.#call(AgentOperation.terminate, { agentId: this.uuid, uuid })
  }

  async request(
    target: ContainerUuid,
    operation: string,
    data: unknown,
    clientId?: ClientUuid,
  ): Promise<unknown> {
    return decode(await this.forward({ target, operation, body: encode(data), clientId }))
  }

  /** Passes an encoded request body to the container and resolves with the encoded answer. */
  forward(options: ForwardOptions): Promise<Uint8Array> {
    const { target, operation, body, clientId, timeoutMs, follows, trace } = options
    const meta: AgentRouteMeta = { agentId: this.uuid, target, operation, clientId }
    return this.session.request(AgentOperation.request, body, { meta, timeoutMs, follows, trace })
  }

  /** Connects (or disconnects) a client to the container's events. */
  async connection(
    operation: typeof AgentOperation.connect | typeof AgentOperation.disconnect,
    uuid: ContainerUuid,
    clientId: ClientUuid,
  ): Promise<void> {
    await this.#call(operation, { agentId: this.uuid, uuid, clientId })
  }

  /** Sends one agent operation with its parameters, typed by the operation table. */
  #call<Op extends keyof AgentOperations>(
    operation: Op,
    params: ParamsOf<Op>,
    options?: RequestOptions,
  ): Promise<Uint8Array> {
    return this.session.request(operation, encode(params), options)
  }
}
