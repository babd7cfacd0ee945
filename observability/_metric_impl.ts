// The metrics behind the interfaces of metrics.ts: label checks, bounded series,
// the Prometheus text of each, and the OpenTelemetry instrument each mirrors into.
import type { Meter } from '@opentelemetry/api'
import { InvalidArgumentError } from '../common/errors.ts'
import type {
  Counter,
  CounterSeries,
  Histogram,
  HistogramSeries,
  Metric,
  MetricOptions,
  Observe,
} from './metrics.ts'

/** More label sets than this in one metric fold into one `_overflow` series. */
const MAX_SERIES = 2000
const OVERFLOW = '_overflow'

type Labels = Record<string, string>

abstract class MetricImpl implements Metric {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  abstract readonly type: 'counter' | 'gauge' | 'histogram'

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

  abstract render(): string

  /** The attributes of a label set, for OpenTelemetry. */
  attributesOf(values: readonly string[]): Labels {
    const attributes: Labels = {}
    this.labelNames.forEach((name, i) => attributes[name] = values[i])
    return attributes
  }

  /** The label values, checked against the label names. */
  checkValues(values: readonly string[]): readonly string[] {
    if (values.length !== this.labelNames.length) {
      throw new InvalidArgumentError(
        `${this.name} has labels [${this.labelNames.join(', ')}], got ${values.length} values`,
      )
    }
    return values
  }

  /** `# HELP` and `# TYPE` lines. */
  header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`
  }

  /** `{a="x",b="y"}`, or nothing without labels. */
  labelText(values: readonly string[], extra = ''): string {
    const pairs = this.labelNames.map((name, i) => `${name}="${escapeLabel(values[i])}"`)
    if (extra !== '') pairs.push(extra)
    return pairs.length === 0 ? '' : `{${pairs.join(',')}}`
  }

  /** The text of values that `collect` reports. */
  collected(collect: (observe: Observe) => void): string {
    let text = this.header()
    collect((value, ...labels) => {
      text += `${this.name}${this.labelText(this.checkValues(labels))} ${formatValue(value)}\n`
    })
    return text
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

  values(): IterableIterator<S> {
    return this.#series.values()
  }

  /** The one series past the bound, with every label value `_overflow`. */
  #overflow(labels: number): S {
    const values = Array.from({ length: labels }, () => OVERFLOW)
    const key = values.join('\u0000')
    let series = this.#series.get(key)
    if (series === undefined) this.#series.set(key, series = this.make(values))
    return series
  }
}

class CounterSeriesImpl implements CounterSeries {
  value = 0

  constructor(
    readonly counter: CounterImpl,
    readonly values: readonly string[],
    readonly attributes: Labels,
  ) {}

  inc(amount = 1): void {
    if (!(amount >= 0)) throw new InvalidArgumentError('a counter only goes up')
    this.value += amount
    this.counter.otel?.add(amount, this.attributes)
  }
}

export class CounterImpl extends MetricImpl implements Counter {
  readonly type = 'counter'
  /** The OpenTelemetry counter it also adds to, when a meter is present. */
  readonly otel: { add(value: number, attributes: Labels): void } | undefined
  readonly #series: SeriesTable<CounterSeriesImpl>
  readonly #collect: ((observe: Observe) => void) | undefined

  constructor(options: MetricOptions, meter?: Meter, collect?: (observe: Observe) => void) {
    super(options)
    this.#collect = collect
    this.#series = new SeriesTable((values) =>
      new CounterSeriesImpl(this, values, this.attributesOf(values))
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

  labels(...values: string[]): CounterSeries {
    return this.#series.get(this.checkValues(values))
  }

  inc(amount = 1): void {
    this.labels().inc(amount)
  }

  get(...values: string[]): number {
    return this.labels(...values).value
  }

  render(): string {
    if (this.#collect !== undefined) return this.collected(this.#collect)
    let text = this.header()
    for (const series of this.#series.values()) {
      text += `${this.name}${this.labelText(series.values)} ${formatValue(series.value)}\n`
    }
    return text
  }
}

export class GaugeImpl extends MetricImpl {
  readonly type = 'gauge'
  readonly #collect: (observe: Observe) => void

  constructor(options: MetricOptions, collect: (observe: Observe) => void, meter?: Meter) {
    super(options)
    this.#collect = collect
    meter?.createObservableGauge(options.name, { description: options.help, unit: options.unit })
      .addCallback((result) =>
        collect((value, ...labels) => result.observe(value, this.attributesOf(labels)))
      )
  }

  render(): string {
    return this.collected(this.#collect)
  }
}

class HistogramSeriesImpl implements HistogramSeries {
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(
    readonly histogram: HistogramImpl,
    readonly values: readonly string[],
    readonly attributes: Labels,
  ) {
    this.counts = new Float64Array(histogram.buckets.length + 1)
  }

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

export class HistogramImpl extends MetricImpl implements Histogram {
  readonly type = 'histogram'
  readonly buckets: readonly number[]
  /** The OpenTelemetry histogram it also records into, when a meter is present. */
  readonly otel: { record(value: number, attributes: Labels): void } | undefined
  readonly #series: SeriesTable<HistogramSeriesImpl>

  constructor(options: MetricOptions & { buckets: readonly number[] }, meter?: Meter) {
    super(options)
    const buckets = options.buckets
    if (buckets.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= buckets[i - 1]))) {
      throw new InvalidArgumentError(`${options.name}: buckets must be finite and increasing`)
    }
    this.buckets = buckets
    this.#series = new SeriesTable((values) =>
      new HistogramSeriesImpl(this, values, this.attributesOf(values))
    )
    this.otel = meter?.createHistogram(options.name, {
      description: options.help,
      unit: options.unit,
      advice: { explicitBucketBoundaries: [...buckets] },
    })
  }

  labels(...values: string[]): HistogramSeries {
    return this.#series.get(this.checkValues(values))
  }

  series(): HistogramSeries[] {
    return [...this.#series.values()]
  }

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
