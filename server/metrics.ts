/**
 * The coordinator's metrics: every one is defined here, in one registry that
 * `/metrics` renders and that OpenTelemetry mirrors when a meter provider is
 * registered. docs/observability.md lists them.
 *
 * @module
 */
import {
  type Counter,
  type CounterSeries,
  type Histogram,
  type HistogramSeries,
  MetricsRegistry,
} from '../observability/metrics.ts'
import { NetworkOperation } from '../core/protocol.ts'
import type {
  ChangeType,
  HeldRequestOutcome,
  MoveEvent,
  NetworkCounts,
  NetworkEvent,
} from '../core/types.ts'
import { Refusals } from '../rpc/limits.ts'
import type { RpcServerStats } from '../rpc/server_options.ts'

/** The counters and the histogram of one (operation, kind), looked up once. */
interface RequestSeries {
  ok: CounterSeries
  failed: CounterSeries
  duration: HistogramSeries
}

/**
 * Requests of one (operation, kind) so far, for live rates and latencies.
 *
 * @example
 * ```ts
 * import type { RequestTotals } from '@huly/network/server'
 * declare const totals: RequestTotals
 * console.log(totals.operation, totals.kind, totals.count)
 * ```
 */
export interface RequestTotals {
  /** The protocol operation, such as `network.request`. */
  operation: string
  /** The container kind, or `''` when the operation has none. */
  kind: string
  /** Requests served. */
  count: number
  /** Of those, failed ones. */
  errors: number
  /** Durations per bucket of {@link CoordinatorMetrics.buckets} (not cumulative). */
  buckets: number[]
}

/**
 * What the gauges and collected counters read when rendered; a
 * {@link NetworkServer} attaches its own.
 *
 * @example
 * ```ts
 * import { ManualTickManager, MetricsRegistry, NetworkImpl } from '@huly/network/core'
 * import { CoordinatorMetrics } from '@huly/network/server'
 * const network = new NetworkImpl(new ManualTickManager())
 * const metrics = new CoordinatorMetrics(new MetricsRegistry({ openTelemetry: false }))
 * metrics.attach({
 *   counts: () => network.counts(),
 *   sessions: () => 0,
 *   stats: () => ({ malformed: 0, rejected: 0, dropped: 0, slow: 0, refused: {} }),
 * })
 * console.log(metrics.registry.render().includes('huly_network_agents 0'))
 * await network.close()
 * ```
 */
export interface CoordinatorSources {
  /** How many agents, clients, references and containers the network has now. */
  counts(): NetworkCounts
  /** Live rpc sessions (connected clients and agents' clients). */
  sessions(): number
  /** The rpc server's counters of refused and dropped input. */
  stats(): RpcServerStats
}

const knownOperations = new Set<string>(Object.values(NetworkOperation))
const startedAt = Date.now() / 1000

/**
 * The metrics of a coordinator: requests, latencies, errors, containers, agents,
 * clients, references, events, busy push-backs and reconnects.
 *
 * @example
 * ```ts
 * import { CoordinatorMetrics } from '@huly/network/server'
 * import { MetricsRegistry } from '@huly/network/core'
 * const metrics = new CoordinatorMetrics(new MetricsRegistry({ openTelemetry: false }))
 * metrics.request('network.get', 'echo', 0.001)
 * console.log(metrics.registry.render().includes('huly_network_requests_total'))
 * ```
 */
export class CoordinatorMetrics {
  /** The registry `/metrics` renders. */
  readonly registry: MetricsRegistry
  /** Upper bounds of the latency buckets, in seconds. */
  readonly buckets: readonly number[]
  readonly #requests: Counter
  readonly #duration: Histogram
  readonly #errors: Counter
  readonly #events: Counter
  readonly #containerEvents: Counter
  readonly #busy: Counter
  readonly #reconnects: Counter
  readonly #moves: Counter
  readonly #moveDuration: Histogram
  readonly #handedOverBytes: Counter
  readonly #held: Counter
  readonly #heldWait: Histogram
  readonly #byOperation = new Map<string, Map<string, RequestSeries>>()
  readonly #httpRefusals = new Refusals()
  #sources: CoordinatorSources | undefined
  #counts: { at: number; value: NetworkCounts } | undefined

  /** Defines every metric in `registry`. */
  constructor(registry: MetricsRegistry = new MetricsRegistry()) {
    this.registry = registry
    // Every gauge of one scrape reads one count, taken afresh for each scrape.
    registry.beforeRender(() => this.#counts = undefined)
    const r = registry
    this.#requests = r.counter({
      name: 'huly_network_requests_total',
      help: 'Requests the coordinator served, by operation, container kind and outcome.',
      labels: ['operation', 'kind', 'outcome'],
    })
    this.#duration = r.histogram({
      name: 'huly_network_request_duration_seconds',
      help: 'Time from receiving a request to answering it, by operation and container kind.',
      labels: ['operation', 'kind'],
      unit: 's',
    })
    this.buckets = this.#duration.buckets
    this.#errors = r.counter({
      name: 'huly_network_request_errors_total',
      help: 'Requests answered with an error, by operation, container kind and error name.',
      labels: ['operation', 'kind', 'error'],
    })
    this.#defineStateGauges()
    this.#events = r.counter({
      name: 'huly_network_events_total',
      help: 'Changes published to clients, by subject (agent, container) and change.',
      labels: ['subject', 'change'],
    })
    this.#containerEvents = r.counter({
      name: 'huly_network_container_events_total',
      help: 'Container broadcasts relayed by the coordinator to a client.',
    })
    this.#busy = r.counter({
      name: 'huly_network_busy_total',
      help:
        'Busy push-backs: sent to a client over its in-flight limit, or received from an agent.',
      labels: ['direction'],
    })
    this.#reconnects = r.counter({
      name: 'huly_network_reconnects_total',
      help: 'Handshakes of peers that were connected before (reconnects and restarts).',
    })
    this.#moves = r.counter({
      name: 'huly_network_moves_total',
      help:
        'Containers of draining agents, by kind and outcome (moved, failed, left, failed-over).',
      labels: ['kind', 'outcome'],
    })
    this.#moveDuration = r.histogram({
      name: 'huly_network_move_duration_seconds',
      help: 'Time a container took to move: held, drained, handed over, terminated, started.',
      labels: ['kind'],
      unit: 's',
    })
    this.#handedOverBytes = r.counter({
      name: 'huly_network_handed_over_bytes_total',
      help: 'Encoded bytes of state that moving containers handed to their next copy.',
      unit: 'By',
    })
    this.#held = r.counter({
      name: 'huly_network_held_requests_total',
      help: 'Requests held while their container moved, by outcome (released, timeout, refused).',
      labels: ['outcome'],
    })
    this.#heldWait = r.histogram({
      name: 'huly_network_held_request_wait_seconds',
      help: 'How long a request was held while its container moved.',
      unit: 's',
    })
    this.#defineTransportCounters()
    this.#defineProcessGauges()
  }

  /** Counts one container's move. */
  moved(event: MoveEvent): void {
    this.#moves.labels(event.kind, event.outcome).inc()
    if (event.outcome === 'moved') {
      this.#moveDuration.labels(event.kind).observe(event.durationMs / 1000)
    }
    if (event.handedOverBytes > 0) this.#handedOverBytes.inc(event.handedOverBytes)
  }

  /** Counts one request held for a moving container, and how long it waited. */
  held(outcome: HeldRequestOutcome, waitedMs: number): void {
    this.#held.labels(outcome).inc()
    this.#heldWait.labels().observe(waitedMs / 1000)
  }

  /** Where the gauges read the network's state; set by the server that owns them. */
  attach(sources: CoordinatorSources): void {
    this.#sources = sources
  }

  /** Records one served request; the hot path, so it allocates nothing once warm. */
  request(operation: string, kind: string, seconds: number, error?: unknown): void {
    const series = this.#series(knownOperations.has(operation) ? operation : 'unknown', kind)
    series.duration.observe(seconds)
    if (error === undefined) {
      series.ok.inc()
      return
    }
    series.failed.inc()
    this.#errors.labels(series.ok.values[0], kind, errorName(error)).inc()
  }

  /** Counts the changes of one published event. */
  event(event: NetworkEvent): void {
    for (const { type } of event.agents) this.#change('agent', type)
    for (const { type } of event.containers) this.#change('container', type)
  }

  /** Counts one container broadcast relayed to a client. */
  containerEvent(): void {
    this.#containerEvents.inc()
  }

  /** Counts one busy push-back. */
  busy(direction: 'sent' | 'received'): void {
    this.#busy.labels(direction).inc()
  }

  /** Counts one handshake of a peer that was connected before. */
  reconnect(): void {
    this.#reconnects.inc()
  }

  /** Totals of every (operation, kind) served so far. */
  requestTotals(): RequestTotals[] {
    return this.#duration.series().map((duration) => {
      const [operation, kind] = duration.values
      const series = this.#series(operation, kind)
      return {
        operation,
        kind,
        count: duration.count,
        errors: series.failed.value,
        buckets: [...duration.counts],
      }
    })
  }

  /**
   * Counts input the HTTP endpoint refused by `limit` (in `huly_network_refused_total`),
   * with one log line per limit every few seconds.
   */
  refuse(limit: string, detail: string): void {
    this.#httpRefusals.refuse(limit, detail)
  }

  /** Containers by kind and state, agents, clients, sessions, references: read when scraped. */
  #defineStateGauges(): void {
    this.registry.gauge({
      name: 'huly_network_containers',
      help: 'Containers by kind and state (starting, live, unused, standby).',
      labels: ['kind', 'state'],
    }, (observe) => {
      for (const { kind, state, count } of this.#currentCounts()?.containers ?? []) {
        observe(count, kind, state)
      }
    })
    const count = (name: string, help: string, read: (counts: NetworkCounts) => number) =>
      this.registry.gauge({ name, help }, (observe) => {
        const counts = this.#currentCounts()
        if (counts !== undefined) observe(read(counts))
      })
    count('huly_network_agents', 'Registered agents.', (c) => c.agents)
    count('huly_network_agents_draining', 'Registered agents that are draining.', (c) => c.draining)
    count('huly_network_clients', 'Clients known alive or holding references.', (c) => c.clients)
    count('huly_network_references', 'References held on containers.', (c) => c.references)
    this.registry.gauge(
      { name: 'huly_network_sessions', help: 'Open rpc sessions (clients and agent hosts).' },
      (observe) => {
        if (this.#sources !== undefined) observe(this.#sources.sessions())
      },
    )
  }

  /** What the rpc server refused or dropped, read from its counters when scraped. */
  #defineTransportCounters(): void {
    const stat = (name: string, help: string, read: (stats: RpcServerStats) => number) =>
      this.registry.counter({ name, help }, (observe) => {
        if (this.#sources !== undefined) observe(read(this.#sources.stats()))
      })
    stat(
      'huly_network_malformed_messages_total',
      'Messages that could not be parsed.',
      (s) => s.malformed,
    )
    stat(
      'huly_network_rejected_total',
      'Handshakes refused, and messages from peers without a session.',
      (s) => s.rejected,
    )
    this.registry.counter({
      name: 'huly_network_sessions_dropped_total',
      help: 'Sessions dropped because their peer fell silent or could not keep up.',
      labels: ['reason'],
    }, (observe) => {
      if (this.#sources === undefined) return
      const stats = this.#sources.stats()
      observe(stats.dropped, 'silent')
      observe(stats.slow, 'slow')
    })
    this.registry.counter({
      name: 'huly_network_refused_total',
      help: 'Input refused by a limit against hostile peers (docs/limits.md), by limit.',
      labels: ['limit'],
    }, (observe) => {
      const rpc = this.#sources?.stats().refused ?? {}
      for (const [limit, count] of Object.entries(rpc)) observe(count, limit)
      for (const [limit, count] of Object.entries(this.#httpRefusals.counts)) observe(count, limit)
    })
  }

  #defineProcessGauges(): void {
    this.registry.gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory of the coordinator process.',
      unit: 'By',
    }, (observe) => observe(Deno.memoryUsage().rss))
    this.registry.gauge({
      name: 'process_start_time_seconds',
      help: 'When the process started, in seconds since the epoch.',
      unit: 's',
    }, (observe) => observe(startedAt))
  }

  #series(operation: string, kind: string): RequestSeries {
    let byKind = this.#byOperation.get(operation)
    if (byKind === undefined) this.#byOperation.set(operation, byKind = new Map())
    let series = byKind.get(kind)
    if (series === undefined) {
      series = {
        ok: this.#requests.labels(operation, kind, 'ok'),
        failed: this.#requests.labels(operation, kind, 'error'),
        duration: this.#duration.labels(operation, kind),
      }
      byKind.set(kind, series)
    }
    return series
  }

  #change(subject: 'agent' | 'container', change: ChangeType): void {
    this.#events.labels(subject, change).inc()
  }

  /**
   * One count serves every gauge of one scrape (OpenTelemetry observes them all at
   * once, so there a count serves for 100 ms).
   */
  #currentCounts(): NetworkCounts | undefined {
    if (this.#sources === undefined) return undefined
    const now = performance.now()
    if (this.#counts === undefined || now - this.#counts.at > 100) {
      let value
      try {
        value = this.#sources.counts()
      } catch {
        return undefined // the network is closed: nothing to report
      }
      this.#counts = { at: now, value }
    }
    return this.#counts.value
  }
}

/** The error's name, bounded so a peer cannot make up label values at will. */
function errorName(error: unknown): string {
  const name = error instanceof Error
    ? ((error as { remoteName?: unknown }).remoteName ?? error.name)
    : 'Error'
  return typeof name === 'string' && /^[A-Za-z][\w.]{0,63}$/.test(name) ? name : 'Error'
}
