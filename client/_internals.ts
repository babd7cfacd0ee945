// What references and connections may ask of their client, and the small helpers the
// client's files share. Nothing here is part of the public API.
import { SpanKind } from '@opentelemetry/api'
import {
  ContainerMovingError,
  ContainerNotFoundError,
  InvalidArgumentError,
} from '../common/errors.ts'
import { createProxy, type Remote } from '../core/proxy.ts'
import type { RouteMeta } from '../core/protocol.ts'
import type { Timeouts } from '../core/timeouts.ts'
import type {
  ContainerKind,
  ContainerRecord,
  ContainerUuid,
  EndpointRef,
  GetOptions,
} from '../core/types.ts'
import { TracerName, tracingEnabled, withRequestSpan } from '../observability/tracing.ts'
import type { RpcClient } from '../rpc/client.ts'
import type { RequestOptions } from '../rpc/session.ts'
import { ClientMetrics } from './_metrics.ts'
import type { ConnectionImpl } from './connection.ts'
import type { ReferenceImpl } from './reference.ts'

/** The client as its references and connections see it: what they may ask of it. */
export interface ClientInternals {
  /** Gets the container `kind` with `options` (a reference re-acquiring it). */
  acquire(kind: ContainerKind, options: GetOptions): Promise<ContainerRecord>
  /** Releases one reference on `uuid` at the coordinator. */
  release(uuid: ContainerUuid): Promise<void>
  /** Drops a closed reference from the client's table. */
  forget(reference: ReferenceImpl): void
  /** A request to `target`: through the direct link `via`, or the network when undefined. */
  routedRequest(
    via: string | undefined,
    target: ContainerUuid,
    operation: string,
    data: unknown,
    options?: RequestOptions,
  ): Promise<unknown>
  /** The place a connection to `endpoint` uses: a direct link address, or the network. */
  link(endpoint: EndpointRef): string | undefined
  /** Adds a connection at its place; the container is told once per client and place. */
  attachConnection(connection: ConnectionImpl): Promise<void>
  /** Removes a connection from the place `via`; the last one there disconnects. */
  detachConnection(connection: ConnectionImpl, via: string | undefined): Promise<void>
  /** The container moved or was placed again: its connections follow it. */
  follow(uuid: ContainerUuid, record: ContainerRecord): Promise<void>
}

/** A request refused because its container moves, or is gone from that place: it did not run. */
export function notRunHere(error: unknown): boolean {
  return error instanceof ContainerMovingError || error instanceof ContainerNotFoundError
}

/** A non-empty string, else an `InvalidArgumentError`. */
export function requireName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${what} must be a non-empty string`)
  }
  return value
}

/** The proxy of `cast()`: requests go through `send`. */
export function castRequests<T extends object>(
  send: (operation: string, data: unknown) => Promise<unknown>,
  interfaceName?: string,
): Remote<T> {
  return createProxy<T>({ request: send }, interfaceName)
}

/** The timings of a link, in milliseconds. */
export interface RpcTimings {
  /** A peer silent for longer is dead. */
  aliveTimeoutMs: number
  /** How often the link pings. */
  pingIntervalMs: number
  /** A request with no answer fails after this long. */
  requestTimeoutMs: number
}

/** The client's timings (seconds) as its links and endpoints take them (milliseconds). */
export function rpcTimings(timeouts: Readonly<Timeouts>): Readonly<RpcTimings> {
  return Object.freeze({
    aliveTimeoutMs: timeouts.aliveTimeoutMs,
    pingIntervalMs: timeouts.pingIntervalMs,
    requestTimeoutMs: timeouts.requestTimeoutMs,
  })
}

/** The attributes of a client span besides the rpc system and method; `meta` names a container. */
function spanAttributes(
  clientId: string,
  meta: RouteMeta | undefined,
): Record<string, string> {
  return {
    'huly.client.id': clientId,
    ...(meta && {
      'huly.container.uuid': meta.target,
      'huly.container.operation': meta.operation,
    }),
  }
}

/** What {@link exchange} sends, and how it is traced and counted. */
export interface Exchange {
  /** The link: to the coordinator, or direct to an agent endpoint. */
  rpc: RpcClient
  /** The rpc operation. */
  operation: string
  /** The encoded parameters. */
  body: Uint8Array
  /** The request's options (a timeout, route, parent trace). */
  options: RequestOptions
  /** The client that sends it, named in its span. */
  clientId: string
  /** The container it is for, named in its span and counted (routed requests). */
  meta?: RouteMeta
  /** In a client span when tracing is on (bookkeeping messages are not). */
  traced: boolean
  /** Counted in the client metrics (requests to containers are, calls are not). */
  counted: boolean
}

/**
 * Sends a request and waits for its answer, in a client span when tracing is on and
 * timed for the metrics when it is counted and a meter provider is registered.
 */
export function exchange(request: Exchange): Promise<Uint8Array> {
  const metrics = request.counted ? ClientMetrics.get() : undefined
  const traced = request.traced && tracingEnabled()
  // The hot path: no span, no timing, no object made.
  if (metrics === undefined && !traced) {
    return request.rpc.request(request.operation, request.body, request.options)
  }
  return observedExchange(request, metrics, traced)
}

/** {@link exchange} in a span and/or timed for the metrics. */
async function observedExchange(
  request: Exchange,
  metrics: ClientMetrics | undefined,
  traced: boolean,
): Promise<Uint8Array> {
  const { rpc, operation, body, options } = request
  const started = performance.now()
  try {
    const reply = !traced ? await rpc.request(operation, body, options) : await withRequestSpan(
      TracerName.client,
      operation,
      SpanKind.CLIENT,
      options.trace,
      {
        'rpc.system': 'huly-network',
        'rpc.method': operation,
        ...spanAttributes(request.clientId, request.meta),
      },
      (trace) => rpc.request(operation, body, { ...options, trace }),
    )
    metrics?.request(operation, (performance.now() - started) / 1000, false)
    return reply
  } catch (error) {
    metrics?.request(operation, (performance.now() - started) / 1000, true)
    throw error
  }
}
