// The coordinator's handle on an agent that lives behind an rpc session.
import {
  type AgentMoveOutParams,
  type AgentMoveOutReply,
  AgentOperation,
  type AgentRouteMeta,
  type AgentStartParams,
} from '../core/protocol.ts'
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
import type { IncomingRequest, RpcSession } from '../rpc/session.ts'

/** How long past the drain deadline the coordinator waits for an agent's moveOut answer. */
const MOVE_OUT_GRACE_MS = 5_000

/** A hand-over as it came from an agent: still encoded, passed on undecoded. */
class EncodedHandOver {
  constructor(readonly bytes: Uint8Array) {}
}

/** A {@link NetworkAgent} whose calls travel over the session of the client serving it. */
export class RemoteAgent implements NetworkAgent {
  /** Requests routed to the agent so far (counted by the server). */
  requests = 0
  /** Routed requests not answered yet. */
  inFlight = 0

  constructor(readonly uuid: AgentUuid, readonly session: RpcSession) {}

  async get(options: StartOptions): Promise<{ uuid: ContainerUuid; endpoint: EndpointRef }> {
    const { handedOver, ...rest } = options
    const params: AgentStartParams = { agentId: this.uuid, options: rest }
    if (handedOver instanceof EncodedHandOver) params.state = handedOver.bytes
    else if (handedOver !== undefined) params.state = encode(handedOver)
    const body = encode(params)
    // Traced when the get that asked for this start is.
    const trace = currentTraceparent()
    return decode(await this.session.request(AgentOperation.start, body, { trace })) as {
      uuid: ContainerUuid
      endpoint: EndpointRef
    }
  }

  /** The agent cuts its own work at the deadline; its answer is awaited a little longer. */
  async moveOut(uuid: ContainerUuid, options: MoveOutOptions): Promise<MoveOutResult> {
    const params: AgentMoveOutParams = { agentId: this.uuid, uuid, deadlineMs: options.deadlineMs }
    const reply = decode(
      await this.session.request(AgentOperation.moveOut, encode(params), {
        timeoutMs: options.deadlineMs + MOVE_OUT_GRACE_MS,
      }),
    ) as AgentMoveOutReply | null
    const state = reply?.state
    if (!(state instanceof Uint8Array)) return {}
    return { handedOver: new EncodedHandOver(state), bytes: state.byteLength }
  }

  async terminate(uuid: ContainerUuid): Promise<void> {
    await this.session.request(AgentOperation.terminate, encode({ agentId: this.uuid, uuid }))
  }

  async request(
    uuid: ContainerUuid,
    operation: string,
    data: unknown,
    clientId?: ClientUuid,
  ): Promise<unknown> {
    return decode(await this.forward(uuid, operation, encode(data), clientId))
  }

  /** Passes an encoded request body to the container and resolves with the encoded answer. */
  forward(
    target: ContainerUuid,
    operation: string,
    body: Uint8Array,
    clientId?: ClientUuid,
    timeoutMs?: number,
    follows?: IncomingRequest,
    trace?: string,
  ): Promise<Uint8Array> {
    const meta: AgentRouteMeta = { agentId: this.uuid, target, operation, clientId }
    return this.session.request(AgentOperation.request, body, { meta, timeoutMs, follows, trace })
  }

  /** Connects (or disconnects) a client to the container's events. */
  async connection(
    operation: typeof AgentOperation.connect | typeof AgentOperation.disconnect,
    uuid: ContainerUuid,
    clientId: ClientUuid,
  ): Promise<void> {
    await this.session.request(operation, encode({ agentId: this.uuid, uuid, clientId }))
  }
}
