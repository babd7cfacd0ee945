/**
 * An in-process metrics registry: counters, gauges and histograms with labels,
 * rendered in the Prometheus text format (so `/metrics` needs no collector), and
 * mirrored into OpenTelemetry instruments when a meter provider is registered
 * (Deno registers one with `OTEL_DENO=true`). Each measurement is recorded in one
 * place, {@link Counter.inc} or {@link Histogram.observe}, which feeds both.
 *
 * @module
 */
import {
  type Attributes,
  createNoopMeter,
  type Meter,
  metrics as otelMetrics,
} from '@opentelemetry/api'
import { InvalidArgumentError } from './errors.ts'

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

/** More label sets than this in one metric fold into one `_overflow` series. */
const MAX_SERIES = 2000
const OVERFLOW = '_overflow'

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
 * One metric and its series, one per label set.
 *
 * @example
 * ```ts
 * import { type Metric, MetricsRegistry } from '@huly/network/core'
 * const metric: Metric = new MetricsRegistry({ meter: null }).counter({ name: 'a_total', help: 'A.' })
 * console.log(metric.name)
 * ```
 */
export abstract class Metric {
  /** The Prometheus name. */
  readonly name: string
  /** What it measures. */
  readonly help: string
  /** Its label names. */
  readonly labelNames: readonly string[]
  /** `counter`, `gauge` or `histogram`. */
  abstract readonly type: 'counter' | 'gauge' | 'histogram'

  /** Checks the name and the label names. */
  constructor(options: MetricOptions) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(options.name)) {
      throw new InvalidArgumentError(`"${options.name}" is not a Prometheus metric name`)
    }
    for (const label of options.labels ?? []) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label) || label.startsWith('__')) {
        throw new InvalidArgumentError(`"${label}" is not a Prometheus label name`)
      }
    }
    this.name = options.name
    this.help = options.help
    this.labelNames = options.labels ?? []
  }

  /** The Prometheus text of this metric (HELP, TYPE and one line per sample). */
  abstract render(): string

  /** The attributes of a label set, for OpenTelemetry. */
  protected attributesOf(values: readonly string[]): Attributes {
    const attributes: Attributes = {}
    this.labelNames.forEach((name, i) => attributes[name] = values[i])
    return attributes
  }

  /** The label values, checked against the label names. */
  protected checkValues(values: readonly string[]): readonly string[] {
    if (values.length !== this.labelNames.length) {
      throw new InvalidArgumentError(
        `${this.name} has labels [${this.labelNames.join(', ')}], got ${values.length} values`,
      )
    }
    return values
  }

  /** `# HELP` and `# TYPE` lines. */
  protected header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`
  }

  /** `{a="x",b="y"}`, or nothing without labels. */
  protected labelText(values: readonly string[], extra = ''): string {
    const pairs = this.labelNames.map((name, i) => `${name}="${escapeLabel(values[i])}"`)
    if (extra !== '') pairs.push(extra)
    return pairs.length === 0 ? '' : `{${pairs.join(',')}}`
  }
}

/** Series of one metric by label values, bounded in number. */
class SeriesTable<S> {
  readonly #series = new Map<string, S>()

  constructor(readonly make: (values: readonly string[]) => S) {}

  get(values: readonly string[]): S {
    const key = values.join('\u0000')
    let series = this.#series.get(key)
    if (series === undefined) {
      if (this.#series.size >= MAX_SERIES) return this.#overflow(values.length)
      this.#series.set(key, series = this.make(values))
    }
    return series
  }

  /** The one series past the bound, with every label value `_overflow`. */
  #overflow(labels: number): S {
    const values = Array.from({ length: labels }, () => OVERFLOW)
    const key = values.join('\u0000')
    let series = this.#series.get(key)
    if (series === undefined) this.#series.set(key, series = this.make(values))
    return series
  }

  values(): IterableIterator<S> {
    return this.#series.values()
  }
}

/**
 * One label set of a counter: keep it to count without looking it up again.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@huly/network/core'
 * const jobs = new MetricsRegistry({ meter: null }).counter({ name: 'jobs_total', help: 'Jobs.', labels: ['queue'] })
 * const mail = jobs.labels('mail')
 * mail.inc()
 * console.log(mail.value) // 1
 * ```
 */
export class CounterSeries {
  /** The count so far. */
  value = 0

  /** A series of `counter` with these label values. */
  constructor(
    readonly counter: Counter,
    readonly values: readonly string[],
    readonly attributes: Attributes,
  ) {}

  /** Adds `amount` (1), which must not be negative. */
  inc(amount = 1): void {
    if (!(amount >= 0)) throw new InvalidArgumentError('a counter only goes up')
    this.value += amount
    this.counter.otel?.add(amount, this.attributes)
  }
}

/**
 * A counter: a number that only goes up, per label set. Given a `collect`
 * function, it reads its values from elsewhere when rendered instead.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@huly/network/core'
 * const registry = new MetricsRegistry({ meter: null })
 * const requests = registry.counter({ name: 'requests_total', help: 'Requests.', labels: ['op'] })
 * requests.labels('get').inc()
 * console.log(registry.render())
 * ```
 */
export class Counter extends Metric {
  /** Always `counter`. */
  readonly type = 'counter'
  /** The OpenTelemetry counter it also adds to, when a meter is present. */
  readonly otel: { add(value: number, attributes: Attributes): void } | undefined
  readonly #series: SeriesTable<CounterSeries>
  readonly #collect: ((observe: Observe) => void) | undefined

  /** Creates the counter; prefer {@link MetricsRegistry.counter}. */
  constructor(options: MetricOptions, meter?: Meter, collect?: (observe: Observe) => void) {
    super(options)
    this.#collect = collect
    this.#series = new SeriesTable((values) =>
      new CounterSeries(this, values, this.attributesOf(values))
    )
    const otelName = options.name.replace(/_total$/, '')
    const description = { description: options.help, unit: options.unit }
    if (meter !== undefined && collect === undefined) {
      this.otel = meter.createCounter(otelName, description)
    } else if (meter !== undefined && collect !== undefined) {
      meter.createObservableCounter(otelName, description).addCallback((result) =>
        collect((value, ...labels) => result.observe(value, this.attributesOf(labels)))
      )
    }
  }

  /** The series of these label values (created at 0 when new). */
  labels(...values: string[]): CounterSeries {
    return this.#series.get(this.checkValues(values))
  }

  /** Adds `amount` (1) to the series without labels. */
  inc(amount = 1): void {
    this.labels().inc(amount)
  }

  /** The value of one label set (0 when it was never counted). */
  get(...values: string[]): number {
    return this.labels(...values).value
  }

  /** The Prometheus text of this counter. */
  render(): string {
    let text = this.header()
    if (this.#collect !== undefined) {
      this.#collect((value, ...labels) => {
        text += `${this.name}${this.labelText(this.checkValues(labels))} ${formatValue(value)}\n`
      })
      return text
    }
    for (const series of this.#series.values()) {
      text += `${this.name}${this.labelText(series.values)} ${formatValue(series.value)}\n`
    }
    return text
  }
}

/**
 * A gauge: values read when rendered (or observed by OpenTelemetry), from a
 * `collect` function that reports each label set.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@huly/network/core'
 * const registry = new MetricsRegistry({ meter: null })
 * const queue: string[] = ['a', 'b']
 * registry.gauge({ name: 'queue_length', help: 'Jobs waiting.' }, (observe) => observe(queue.length))
 * console.log(registry.render())
 * ```
 */
export class Gauge extends Metric {
  /** Always `gauge`. */
  readonly type = 'gauge'
  readonly #collect: (observe: Observe) => void

  /** Creates the gauge; prefer {@link MetricsRegistry.gauge}. */
  constructor(options: MetricOptions, collect: (observe: Observe) => void, meter?: Meter) {
    super(options)
    this.#collect = collect
    meter?.createObservableGauge(options.name, { description: options.help, unit: options.unit })
      .addCallback((result) =>
        collect((value, ...labels) => result.observe(value, this.attributesOf(labels)))
      )
  }

  /** The Prometheus text of this gauge. */
  render(): string {
    let text = this.header()
    this.#collect((value, ...labels) => {
      text += `${this.name}${this.labelText(this.checkValues(labels))} ${formatValue(value)}\n`
    })
    return text
  }
}

/**
 * One label set of a histogram: keep it to observe without looking it up again.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@huly/network/core'
 * const latency = new MetricsRegistry({ meter: null }).histogram({ name: 'latency_seconds', help: 'Latency.' })
 * const all = latency.labels()
 * all.observe(0.002)
 * console.log(all.count, all.sum)
 * ```
 */
export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  readonly counts: Float64Array
  /** The sum of the observations. */
  sum = 0
  /** How many observations. */
  count = 0

  /** A series of `histogram` with these label values. */
  constructor(
    readonly histogram: Histogram,
    readonly values: readonly string[],
    readonly attributes: Attributes,
  ) {
    this.counts = new Float64Array(histogram.buckets.length + 1)
  }

  /** Records one observation. */
  observe(value: number): void {
    const buckets = this.histogram.buckets
    let i = 0
    while (i < buckets.length && value > buckets[i]) i++
    this.counts[i]++
    this.sum += value
    this.count++
    this.histogram.otel?.record(value, this.attributes)
  }
}

/**
 * A histogram: observations counted in buckets by upper bound, with their sum
 * and count, per label set.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@huly/network/core'
 * const registry = new MetricsRegistry({ meter: null })
 * const latency = registry.histogram({ name: 'latency_seconds', help: 'Latency.', buckets: [0.1, 1] })
 * latency.labels().observe(0.5)
 * console.log(registry.render())
 * ```
 */
export class Histogram extends Metric {
  /** Always `histogram`. */
  readonly type = 'histogram'
  /** Upper bounds of the buckets, increasing. */
  readonly buckets: readonly number[]
  /** The OpenTelemetry histogram it also records into, when a meter is present. */
  readonly otel: { record(value: number, attributes: Attributes): void } | undefined
  readonly #series: SeriesTable<HistogramSeries>

  /** Creates the histogram; prefer {@link MetricsRegistry.histogram}. */
  constructor(options: MetricOptions & { buckets?: readonly number[] }, meter?: Meter) {
    super(options)
    const buckets = options.buckets ?? LATENCY_BUCKETS
    if (buckets.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= buckets[i - 1]))) {
      throw new InvalidArgumentError(`${options.name}: buckets must be finite and increasing`)
    }
    this.buckets = buckets
    this.#series = new SeriesTable((values) =>
      new HistogramSeries(this, values, this.attributesOf(values))
    )
    this.otel = meter?.createHistogram(options.name, {
      description: options.help,
      unit: options.unit,
      advice: { explicitBucketBoundaries: [...buckets] },
    })
  }

  /** The series of these label values. */
  labels(...values: string[]): HistogramSeries {
    return this.#series.get(this.checkValues(values))
  }

  /** Every series observed so far. */
  series(): HistogramSeries[] {
    return [...this.#series.values()]
  }

  /** The Prometheus text of this histogram. */
  render(): string {
    let text = this.header()
    for (const series of this.#series.values()) {
      let cumulative = 0
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i]
        const le = `le="${formatValue(bound)}"`
        text += `${this.name}_bucket${this.labelText(series.values, le)} ${cumulative}\n`
      })
      text += `${this.name}_bucket${this.labelText(series.values, 'le="+Inf"')} ${series.count}\n`
      text += `${this.name}_sum${this.labelText(series.values)} ${formatValue(series.sum)}\n`
      text += `${this.name}_count${this.labelText(series.values)} ${series.count}\n`
    }
    return text
  }
}

/**
 * Options of a {@link MetricsRegistry}.
 *
 * @example
 * ```ts
 * import type { MetricsRegistryOptions } from '@huly/network/core'
 * const options: MetricsRegistryOptions = { meter: null } // Prometheus text only
 * ```
 */
export interface MetricsRegistryOptions {
  /**
   * The OpenTelemetry meter to mirror into; `null` for none. By default, the
   * global meter provider's meter `huly-network`, unless no provider is registered.
   */
  meter?: Meter | null
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
    this.#meter = options.meter === undefined ? globalMeter() : options.meter ?? undefined
  }

  /** Whether measurements are also recorded into OpenTelemetry instruments. */
  get mirrored(): boolean {
    return this.#meter !== undefined
  }

  /** Adds a counter; with `collect`, its values are read when rendered. */
  counter(options: MetricOptions, collect?: (observe: Observe) => void): Counter {
    return this.#add(new Counter(options, this.#meter, collect))
  }

  /** Adds a gauge whose values `collect` reports when rendered. */
  gauge(options: MetricOptions, collect: (observe: Observe) => void): Gauge {
    return this.#add(new Gauge(options, collect, this.#meter))
  }

  /** Adds a histogram (buckets: {@link LATENCY_BUCKETS} by default). */
  histogram(options: MetricOptions & { buckets?: readonly number[] }): Histogram {
    return this.#add(new Histogram(options, this.#meter))
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
 * import { estimateQuantile } from '@huly/network/core'
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

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

function escapeHelp(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')
}

function escapeLabel(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')
}
