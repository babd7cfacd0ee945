// The in-process metrics registry: Prometheus text that the strict parser accepts,
// escaping, bounded label sets, named errors on misuse, quantile estimates.
import assert from 'node:assert/strict'
import { InvalidArgumentError, MetricsRegistry } from '../../core/mod.ts'
import { estimateQuantile } from '../../internal.ts'
import { CoordinatorMetrics } from '../../server/mod.ts'
import { parsePrometheus, valueOf } from './_prometheus.ts'

Deno.test('counters, gauges and histograms render as valid Prometheus text', () => {
  const registry = new MetricsRegistry({ openTelemetry: false })
  const jobs = registry.counter({ name: 'jobs_total', help: 'Jobs.', labels: ['queue'] })
  jobs.labels('mail').inc()
  jobs.labels('mail').inc(2)
  jobs.labels('sms').inc()
  registry.gauge({ name: 'queue_length', help: 'Waiting.', labels: ['queue'] }, (observe) => {
    observe(4, 'mail')
    observe(0, 'sms')
  })
  const latency = registry.histogram({
    name: 'latency_seconds',
    help: 'Latency.',
    buckets: [0.1, 1],
  })
  for (const value of [0.05, 0.5, 0.5, 3]) latency.labels().observe(value)

  const families = parsePrometheus(registry.render())
  assert.deepEqual([...families.keys()], ['jobs_total', 'queue_length', 'latency_seconds'])
  assert.equal(valueOf(families, 'jobs_total', { queue: 'mail' }), 3)
  assert.equal(valueOf(families, 'queue_length', { queue: 'mail' }), 4)
  assert.equal(valueOf(families, 'latency_seconds_bucket', { le: '0.1' }), 1)
  assert.equal(valueOf(families, 'latency_seconds_bucket', { le: '1' }), 3)
  assert.equal(valueOf(families, 'latency_seconds_bucket', { le: '+Inf' }), 4)
  assert.equal(valueOf(families, 'latency_seconds_count'), 4)
  assert.equal(valueOf(families, 'latency_seconds_sum'), 4.05)
})

Deno.test('label values and help text are escaped', () => {
  const registry = new MetricsRegistry({ openTelemetry: false })
  const weird = 'a "quoted" \\ back\nslash'
  registry.counter({ name: 'x_total', help: 'Help with \\ and\nnewline.', labels: ['v'] })
    .labels(weird).inc()
  const families = parsePrometheus(registry.render())
  assert.equal(families.get('x_total')!.help, 'Help with \\ and\nnewline.')
  assert.equal(valueOf(families, 'x_total', { v: weird }), 1)
})

Deno.test('misuse fails with InvalidArgumentError and changes nothing', () => {
  const registry = new MetricsRegistry({ openTelemetry: false })
  const counter = registry.counter({ name: 'ok_total', help: 'Ok.', labels: ['a'] })
  assert.throws(() => counter.labels(), InvalidArgumentError)
  assert.throws(() => counter.labels('x').inc(-1), InvalidArgumentError)
  assert.throws(() => registry.counter({ name: 'ok_total', help: 'Again.' }), InvalidArgumentError)
  assert.throws(() => registry.counter({ name: 'bad-name', help: 'No.' }), InvalidArgumentError)
  assert.throws(
    () => registry.counter({ name: 'l_total', help: 'No.', labels: ['__reserved'] }),
    InvalidArgumentError,
  )
  assert.throws(
    () => registry.histogram({ name: 'h', help: 'No.', buckets: [1, 0.5] }),
    InvalidArgumentError,
  )
  assert.equal(counter.get('x'), 0)
})

Deno.test('a metric holds at most 2000 label sets; more fold into one _overflow series', () => {
  const registry = new MetricsRegistry({ openTelemetry: false })
  const counter = registry.counter({ name: 'by_id_total', help: 'Per id.', labels: ['id'] })
  for (let i = 0; i < 2100; i++) counter.labels(`id-${i}`).inc()
  const families = parsePrometheus(registry.render())
  assert.equal(families.get('by_id_total')!.samples.length, 2001)
  assert.equal(valueOf(families, 'by_id_total', { id: '_overflow' }), 100)
})

Deno.test('quantiles are estimated inside the bucket they fall in', () => {
  const bounds = [0.001, 0.01, 0.1]
  assert.ok(Number.isNaN(estimateQuantile(bounds, [0, 0, 0, 0], 0.5)))
  assert.equal(estimateQuantile(bounds, [10, 0, 0, 0], 0.5), 0.0005)
  assert.ok(Math.abs(estimateQuantile(bounds, [0, 10, 0, 0], 0.5) - 0.0055) < 1e-12)
  assert.equal(estimateQuantile(bounds, [0, 0, 0, 5], 0.99), 0.1)
  assert.equal(estimateQuantile(bounds, [99, 0, 0, 1], 0.5), 0.001 * (50 / 99))
})

Deno.test("docs/observability.md's metrics table lists every metric of the coordinator, and no other", () => {
  const doc = Deno.readTextFileSync(new URL('../../docs/observability.md', import.meta.url))
  const section = doc.split(/^## Metrics$/m)[1].split(/^## /m)[0]
  const documented = [...section.matchAll(/^\| `([a-z_]+)`\s+\| (\w+)/gm)]
    .map(([, name, type]) => `${name} ${type}`)
  const metrics = new CoordinatorMetrics(new MetricsRegistry({ openTelemetry: false }))
  const defined = metrics.registry.metrics().map((metric) => `${metric.name} ${metric.type}`)
  assert.deepEqual(documented.toSorted(), defined.toSorted())
})
