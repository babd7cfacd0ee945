/**
 * An in-process metrics registry: counters, gauges and histograms with labels,
 * rendered in the Prometheus text format (so `/metrics` needs no collector), and
 * mirrored into OpenTelemetry instruments when a meter provider is registered
 * (Deno registers one with `OTEL_DENO=true`). Each measurement is recorded in one
 * place, {@link Counter.inc} or {@link Histogram.observe}, which feeds both.
 *
 * @module
 */
import { createNoopMeter, type Meter, metrics as otelMetrics } from '@opentelemetry/api'
import { InvalidArgumentError } from '../common/errors.ts'
import { CounterImpl, GaugeImpl, HistogramImpl } from './_metric_impl.ts'

/**
 * Latency buckets in seconds, from 50 µs to 30 s: a request through the
 * coordinator takes about a millisecond, a request deadline is 30 s.
 *
 * @example
 * ```ts
 * import { LATENCY_BUCKETS } from '@huly/network/core'
 * console.log(LATENCY_BUCKETS.length)
 * ```
 */
export const LATENCY_BUCKETS: readonly number[] = [
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
]

/**
 * What describes a metric.
 *
 * @example
 * ```ts
 * import type { MetricOptions } from '@huly/network/core'
 * const options: MetricOptions = { name: 'jobs_total', help: 'Jobs done.', labels: ['queue'] }
 * ```
 */
export interface MetricOptions {
  /** The Prometheus name, such as `huly_network_requests_total`. */
  name: string
  /** One line saying what it counts. */
  help: string
  /** Label names, in the order their values are given. */
  labels?: readonly string[]
  /** The unit, for OpenTelemetry (`s`, `By`, …). */
  unit?: string
}

/**
 * Reports the current values of a gauge or a collected counter, one call per label set.
 *
 * @example
 * ```ts
 * import type { Observe } from '@huly/network/core'
 * const collect = (observe: Observe) => observe(3, 'echo')
 * ```
 */
export type Observe = (value: number, ...labels: string[]) => void

/**
 * One metric of a {@link MetricsRegistry}.
 *
 * @example
 * ```ts
 * import { type Metric, MetricsRegistry } from '@huly/network/core'
 * const metric: Metric = new MetricsRegistry({ openTelemetry: false }).counter({ name: 'a_total', help: 'A.' })
 * console.log(metric.name, metric.type)
 * ```
 */
export interface Metric {
  /** The Prometheus name. */
  readonly name: string
  /** What it measures. */
  readonly help: string
  /** Its label names. */
  readonly labelNames: readonly string[]
  /** `counter`, `gauge` or `histogram`. */
  readonly type: 'counter' | 'gauge' | 'histogram'
  /** The Prometheus text of this metric (HELP, TYPE and one line per sample). */
  render(): string
}

/**
 * One label set of a counter: keep it to count without looking it up again.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@huly/network/core'
 * const jobs = new MetricsRegistry({ openTelemetry: false })
 *   .counter({ name: 'jobs_total', help: 'Jobs.', labels: ['queue'] })
 * const mail = jobs.labels('mail')
 * mail.inc()
 * console.log(mail.value) // 1
 * ```
 */
export interface CounterSeries {
  /** Its label values. */
  readonly values: readonly string[]
  /** The count so far. */
  readonly value: number
  /** Adds `amount` (1), which must not be negative. */
  inc(amount?: number): void
}

/**
 * A counter: a number that only goes up, per label set.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@huly/network/core'
 * const registry = new MetricsRegistry({ openTelemetry: false })
 * const requests = registry.counter({ name: 'requests_total', help: 'Requests.', labels: ['op'] })
 * requests.labels('get').inc()
 * console.log(registry.render())
 * ```
 */
export interface Counter extends Metric {
  /** The series of these label values (created at 0 when new). */
  labels(...values: string[]): CounterSeries
  /** Adds `amount` (1) to the series without labels. */
  inc(amount?: number): void
  /** The value of one label set (0 when it was never counted). */
  get(...values: string[]): number
}

/**
 * One label set of a histogram: keep it to observe without looking it up again.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@huly/network/core'
 * const latency = new MetricsRegistry({ openTelemetry: false })
 *   .histogram({ name: 'latency_seconds', help: 'Latency.' })
 * const all = latency.labels()
 * all.observe(0.002)
 * console.log(all.count, all.sum)
 * ```
 */
export interface HistogramSeries {
  /** Its label values. */
  readonly values: readonly string[]
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  readonly counts: Float64Array
  /** The sum of the observations. */
  readonly sum: number
  /** How many observations. */
  readonly count: number
  /** Records one observation. */
  observe(value: number): void
}

/**
 * A histogram: observations counted in buckets by upper bound, with their sum
 * and count, per label set.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@huly/network/core'
 * const registry = new MetricsRegistry({ openTelemetry: false })
 * const latency = registry.histogram({ name: 'latency_seconds', help: 'Latency.', buckets: [0.1, 1] })
 * latency.labels().observe(0.5)
 * console.log(latency.series().length)
 * ```
 */
export interface Histogram extends Metric {
  /** Upper bounds of the buckets, increasing. */
  readonly buckets: readonly number[]
  /** The series of these label values. */
  labels(...values: string[]): HistogramSeries
  /** Every series observed so far. */
  series(): HistogramSeries[]
}

/**
 * Options of a {@link MetricsRegistry}.
 *
 * @example
 * ```ts
 * import type { MetricsRegistryOptions } from '@huly/network/core'
 * const options: MetricsRegistryOptions = { openTelemetry: false } // Prometheus text only
 * ```
 */
export interface MetricsRegistryOptions {
  /**
   * Whether to record into OpenTelemetry instruments too (the global meter
   * provider's meter `huly-network`), when a provider is registered (true).
   */
  openTelemetry?: boolean
}

/**
 * A set of metrics rendered together in the Prometheus text format (version 0.0.4).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@huly/network/core'
 * const registry = new MetricsRegistry()
 * registry.counter({ name: 'started_total', help: 'Starts.' }).inc()
 * console.log(registry.render()) // # HELP started_total Starts. …
 * ```
 */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>()
  readonly #meter: Meter | undefined
  readonly #beforeRender: Array<() => void> = []

  /** Creates an empty registry. */
  constructor(options: MetricsRegistryOptions = {}) {
    this.#meter = options.openTelemetry === false ? undefined : globalMeter()
  }

  /** Whether measurements are also recorded into OpenTelemetry instruments. */
  get mirrored(): boolean {
    return this.#meter !== undefined
  }

  /** Adds a counter; with `collect`, its values are read from elsewhere when rendered. */
  counter(options: MetricOptions, collect?: (observe: Observe) => void): Counter {
    return this.#add(new CounterImpl(options, this.#meter, collect))
  }

  /** Adds a gauge whose values `collect` reports when rendered. */
  gauge(options: MetricOptions, collect: (observe: Observe) => void): Metric {
    return this.#add(new GaugeImpl(options, collect, this.#meter))
  }

  /** Adds a histogram (buckets: {@link LATENCY_BUCKETS} by default). */
  histogram(options: MetricOptions & { buckets?: readonly number[] }): Histogram {
    return this.#add(
      new HistogramImpl({ ...options, buckets: options.buckets ?? LATENCY_BUCKETS }, this.#meter),
    )
  }

  /** Runs `hook` at the start of every {@link MetricsRegistry.render}. */
  beforeRender(hook: () => void): void {
    this.#beforeRender.push(hook)
  }

  /** Every metric, in the order they were added. */
  metrics(): Metric[] {
    return [...this.#metrics.values()]
  }

  /** The Prometheus text of every metric. */
  render(): string {
    for (const hook of this.#beforeRender) hook()
    let text = ''
    for (const metric of this.#metrics.values()) text += metric.render()
    return text
  }

  #add<M extends Metric>(metric: M): M {
    if (this.#metrics.has(metric.name)) {
      throw new InvalidArgumentError(`metric ${metric.name} is already registered`)
    }
    this.#metrics.set(metric.name, metric)
    return metric
  }
}

/**
 * An estimate of the `q` quantile (0 to 1) of observations counted per bucket,
 * interpolated linearly inside the bucket it falls in; `NaN` without observations.
 *
 * @example
 * ```ts
 * import { estimateQuantile } from '@huly/network/internal'
 * console.log(estimateQuantile([0.1, 1], [0, 10, 0], 0.5)) // 0.55
 * ```
 */
export function estimateQuantile(
  bounds: readonly number[],
  counts: ArrayLike<number>,
  q: number,
): number {
  let total = 0
  for (let i = 0; i < counts.length; i++) total += counts[i]
  if (total === 0) return NaN
  const rank = q * total
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0 && seen + counts[i] >= rank) {
      if (i === bounds.length) return bounds[bounds.length - 1]
      const lower = i === 0 ? 0 : bounds[i - 1]
      return lower + (bounds[i] - lower) * ((rank - seen) / counts[i])
    }
    seen += counts[i]
  }
  return bounds[bounds.length - 1]
}

const noopMeterClass = createNoopMeter().constructor

function globalMeter(): Meter | undefined {
  const meter = otelMetrics.getMeter('huly-network')
  return meter.constructor === noopMeterClass ? undefined : meter
}
