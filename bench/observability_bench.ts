/**
 * What observability adds to the request path of the coordinator: recording one
 * request into the metrics (counter + histogram, OpenTelemetry mirror off), the
 * check that tracing is off, and a span when a tracer provider is registered.
 *
 * @module
 */
import { SpanKind } from '@opentelemetry/api'
import { MetricsRegistry } from '../core/mod.ts'
import { endRequestSpan, startRequestSpan, TracerName, tracingEnabled } from '../core/_tracing.ts'
import { CoordinatorMetrics } from '../server/metrics.ts'

const metrics = new CoordinatorMetrics(new MetricsRegistry({ openTelemetry: false }))
metrics.request('network.request', 'echo', 0.001)

Deno.bench('metrics: record one routed request (count + latency histogram)', {
  group: 'observability',
  baseline: true,
}, () => {
  const started = performance.now()
  metrics.request('network.request', 'echo', (performance.now() - started) / 1000)
})

Deno.bench('tracing off: the check and no span', { group: 'observability' }, () => {
  if (tracingEnabled()) throw new Error('a tracer provider is registered')
  endRequestSpan(startRequestSpan(TracerName.coordinator, 'x', SpanKind.SERVER, undefined, {}))
})

Deno.bench('metrics: render /metrics with 50 request series', { group: 'render' }, () => {
  metrics.registry.render()
})

for (let i = 0; i < 49; i++) metrics.request('network.request', `kind-${i}`, 0.001)
