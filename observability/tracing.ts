// Shared by core/, client/ and server/; not exported from any mod.ts (a module of the
// package, not of its API).
// Traces of requests across processes, internal to the library (docs/observability.md's
// "Traces" says what a user sees): each hop (client, coordinator, agent, container)
// opens an OpenTelemetry span whose parent is the W3C `traceparent` that came in the
// request header, and passes its own on. With no tracer provider registered (Deno
// registers one with OTEL_DENO=true) no span is made and an incoming `traceparent`
// is passed on unchanged, so tracing costs next to nothing when it is off.
import { AsyncLocalStorage } from 'node:async_hooks'
import {
  type Attributes,
  type Context,
  context,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api'

/**
 * The tracer names (instrumentation scopes) of the parts of the network.
 */
export const TracerName = {
  /** Spans of requests a client sends. */
  client: 'huly-network/client',
  /** Spans of requests the coordinator serves or forwards. */
  coordinator: 'huly-network/coordinator',
  /** Spans of requests an agent serves, and of its containers' work. */
  agent: 'huly-network/agent',
} as const

/**
 * One of {@link TracerName}.
 */
export type TracerScope = typeof TracerName[keyof typeof TracerName]

const noopProvider = new ProxyTracerProvider().getDelegate()
/** Tracers of the provider they came from (a new global provider makes new ones). */
let tracers: { provider: TracerProvider; byScope: Map<TracerScope, Tracer> } | undefined

/**
 * Whether a tracer provider is registered, so spans are made.
 */
export function tracingEnabled(): boolean {
  const provider = trace.getTracerProvider()
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== noopProvider
}

/**
 * Parses a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`); `undefined`
 * when it is malformed.
 */
export function parseTraceparent(text: unknown): SpanContext | undefined {
  if (typeof text !== 'string') return undefined
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(text)
  if (match === null || match[1] === 'ff') return undefined
  const [, , traceId, spanId, flags] = match
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined
  return { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true }
}

/**
 * The W3C `traceparent` of a span context.
 */
export function formatTraceparent(span: SpanContext): string {
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0')
  return `00-${span.traceId}-${span.spanId}-${flags}`
}

/**
 * A span of one hop of a request, or `undefined` when tracing is off. Its parent
 * is `traceparent` when given, else the active context (a span of the caller's).
 */
export function startRequestSpan(
  scope: TracerScope,
  name: string,
  kind: SpanKind,
  traceparent: string | undefined,
  attributes: Attributes,
): Span | undefined {
  if (!tracingEnabled()) return undefined
  const provider = trace.getTracerProvider()
  if (tracers?.provider !== provider) tracers = { provider, byScope: new Map() }
  let tracer = tracers.byScope.get(scope)
  if (tracer === undefined) tracers.byScope.set(scope, tracer = provider.getTracer(scope))
  return tracer.startSpan(name, { kind, attributes }, parentContext(traceparent))
}

/**
 * The `traceparent` to send on: the span's, or the incoming one when no span was made.
 */
export function traceparentOf(span: Span | undefined, incoming?: string): string | undefined {
  // What a peer sent is passed on only when it is a traceparent (55 characters).
  const passed = incoming?.length === 55 && parseTraceparent(incoming) ? incoming : undefined
  if (span === undefined) return passed
  const spanContext = span.spanContext()
  return trace.isSpanContextValid(spanContext) ? formatTraceparent(spanContext) : passed
}

/**
 * Ends a span; with an error, marks it failed and records the error.
 */
export function endRequestSpan(span: Span | undefined, error?: unknown): void {
  if (span === undefined) return
  if (error !== undefined) {
    const exception = error instanceof Error ? error : new Error(String(error))
    span.recordException(exception)
    span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message })
  }
  span.end()
}

/**
 * Runs `work` inside a span of its own (ended when it settles), and gives it the
 * `traceparent` to pass on.
 */
export async function withRequestSpan<T>(
  scope: TracerScope,
  name: string,
  kind: SpanKind,
  traceparent: string | undefined,
  attributes: Attributes,
  work: (traceparent: string | undefined) => Promise<T>,
): Promise<T> {
  const span = startRequestSpan(scope, name, kind, traceparent, attributes)
  if (span === undefined) return await work(traceparent)
  try {
    const result = await work(traceparentOf(span, traceparent))
    endRequestSpan(span)
    return result
  } catch (error) {
    endRequestSpan(span, error)
    throw error
  }
}

function parentContext(traceparent: string | undefined): Context {
  const parent = parseTraceparent(traceparent)
  return parent === undefined ? context.active() : trace.setSpanContext(ROOT_CONTEXT, parent)
}

/**
 * The traceparent of the control operation a coordinator is serving, through its
 * awaits: the start of a container on its agent joins the trace of the get that
 * asked for it, with no parameter threaded through the network model.
 */
const serving = new AsyncLocalStorage<string | undefined>()

/** Runs `work` with `traceparent` as the one {@link currentTraceparent} returns. */
export function withTraceparent<T>(traceparent: string | undefined, work: () => T): T {
  return serving.run(traceparent, work)
}

/** The traceparent of the operation being served here, if it is traced. */
export function currentTraceparent(): string | undefined {
  return serving.getStore()
}
