// The coordinator's hot path: a routed request's body goes to its container's agent
// without being decoded; while the container moves, the request waits for it.
import { type Span, SpanKind } from '@opentelemetry/api'
import { ContainerMovingError, InvalidArgumentError } from '../common/errors.ts'
import type { CoordinatorModel } from '../core/model.ts'
import type { RouteMeta } from '../core/protocol.ts'
import type { ClientUuid, ContainerRecord, ContainerUuid } from '../core/types.ts'
import { startRequestSpan, traceparentOf, TracerName } from '../observability/tracing.ts'
import type { IncomingRequest } from '../rpc/session.ts'
import type { AccessGuard } from './_guard.ts'
import type { ServedAgents } from './_served_agents.ts'
import type { RemoteAgent } from './remote_agent.ts'

/** Where a routed request goes: the container, its agent, and the container's operation. */
export interface Route {
  /** The container's record. */
  record: ContainerRecord
  /** This server's handle on the agent that serves it. */
  agent: RemoteAgent
  /** The container's operation. */
  operation: string
}

/** Routes requests to the agents of their containers. */
export class Router {
  constructor(
    readonly network: CoordinatorModel,
    readonly agents: ServedAgents,
    readonly guard: AccessGuard | undefined,
  ) {}

  /**
   * The container's record and agent, to pass the body on without decoding it.
   * Throws (so the request fails) when the target is not live.
   */
  route(request: IncomingRequest): Route {
    const meta = request.meta as Partial<RouteMeta> | undefined
    const target = meta?.target
    const operation = meta?.operation
    if (typeof target !== 'string' || typeof operation !== 'string') {
      throw new InvalidArgumentError('a routed request needs meta { target, operation }')
    }
    const { record, agent } = this.agents.live(target as ContainerUuid)
    this.guard?.checkUse(request.session, record)
    return { record, agent, operation }
  }

  /** Holds `request` while its container moves; undefined when it does not. */
  hold(route: Route, request: IncomingRequest): Promise<void> | undefined {
    return this.network.holdWhileMoving(
      route.record.uuid,
      request.body.byteLength,
      request.timeoutMs,
      request.signal,
    )
  }

  /** Routes a request again once its container's move ended. */
  async routeAfter(held: Promise<void>, request: IncomingRequest): Promise<Route> {
    await held
    return this.route(request)
  }

  /**
   * Passes the body on undecoded. An agent that answers "moving" did not run it: it
   * waits for the move here and goes on.
   */
  async forward(
    route: Route,
    request: IncomingRequest,
    span: Span | undefined,
  ): Promise<Uint8Array> {
    for (let attempt = 0;; attempt++) {
      const { agent, record, operation } = route
      agent.requests++
      agent.inFlight++
      try {
        return await agent.forward({
          target: record.uuid,
          operation,
          body: request.body,
          clientId: request.session.peerId as ClientUuid,
          timeoutMs: request.timeoutMs,
          follows: request,
          trace: traceparentOf(span, request.trace),
        })
      } catch (error) {
        if (!(error instanceof ContainerMovingError) || attempt > 2) {
          throw error
        }
        route = await this.routeAfter(this.hold(route, request) ?? Promise.resolve(), request)
      } finally {
        agent.inFlight--
      }
    }
  }
}

/** The coordinator's span of one request (of its container, when routed). */
export function startSpan(request: IncomingRequest, route: Route | undefined): Span | undefined {
  const attributes: Record<string, string> = {
    'rpc.system': 'huly-network',
    'rpc.method': request.operation,
    'huly.client.id': request.session.peerId,
  }
  const record = route?.record
  if (record !== undefined) {
    attributes['huly.container.uuid'] = record.uuid
    attributes['huly.container.kind'] = record.kind
    attributes['huly.container.operation'] = route!.operation
    attributes['huly.agent.id'] = record.agentId
  }
  const name = record === undefined ? request.operation : `${request.operation} ${record.kind}`
  return startRequestSpan(
    TracerName.coordinator,
    name,
    SpanKind.SERVER,
    request.trace,
    attributes,
  )
}
