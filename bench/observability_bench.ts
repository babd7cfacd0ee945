/**
 * What observability adds to the request path: the coordinator recording one
 * request into its metrics (counter + histogram, OpenTelemetry mirror off), and
 * the checks a client or agent makes when tracing and metrics export are off.
 *
 * @module
 */
import { SpanKind } from '@opentelemetry/api'
import { MetricsRegistry } from '../core/mod.ts'
import {
  endRequestSpan,
  startRequestSpan,
  TracerName,
  tracingEnabled,
} from '../observability/tracing.ts'
import { ClientMetrics } from '../client/_metrics.ts'
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

Deno.bench('client: the metrics check with no meter provider', { group: 'observability' }, () => {
  if (ClientMetrics.get() !== undefined) throw new Error('a meter provider is registered')
})

Deno.bench('metrics: render /metrics with 50 request series', { group: 'render' }, () => {
  metrics.registry.render()
})

for (let i = 0; i < 49; i++) metrics.request('network.request', `kind-${i}`, 0.001)
