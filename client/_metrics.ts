// Metrics of a client process and of the agents it serves. A client has no
// /metrics of its own, so they are recorded only when an OpenTelemetry meter
// provider is registered (Deno's own with OTEL_DENO=true), which exports them;
// without one nothing is recorded and the request path pays one check.
import { type MeterProvider, metrics as otelMetrics } from '@opentelemetry/api'
import {
  type Counter,
  type CounterSeries,
  type Histogram,
  MetricsRegistry,
} from '../observability/metrics.ts'

/** A metric's name and what it says. */
type Described = { name: string; help: string }

/** Requests counted by one label and their outcome, and timed by that label. */
class TimedRequests {
  readonly #count: Counter
  readonly #duration: Histogram

  constructor(registry: MetricsRegistry, label: string, count: Described, duration: Described) {
    this.#count = registry.counter({ ...count, labels: [label, 'outcome'] })
    this.#duration = registry.histogram({ ...duration, labels: [label], unit: 's' })
  }

  /** A request of `value` (its label's value), answered or failed after `seconds`. */
  record(value: string, seconds: number, failed: boolean): void {
    this.#count.labels(value, failed ? 'error' : 'ok').inc()
    this.#duration.labels(value).observe(seconds)
  }
}

/** The metrics of this process's clients and agents, one set per process. */
export class ClientMetrics {
  readonly #requests: TimedRequests
  readonly #served: TimedRequests
  readonly #reconnects: CounterSeries
  readonly #busy: CounterSeries

  private constructor(registry: MetricsRegistry) {
    this.#requests = new TimedRequests(registry, 'operation', {
      name: 'huly_network_client_requests_total',
      help: 'Requests clients sent to containers, by operation (routed or direct) and outcome.',
    }, {
      name: 'huly_network_client_request_duration_seconds',
      help: 'Time from sending a request to a container to its answer, as the client saw it.',
    })
    const counter = (metric: Described) => registry.counter(metric).labels()
    this.#reconnects = counter({
      name: 'huly_network_client_reconnects_total',
      help: 'Handshakes of clients with the coordinator after the first one.',
    })
    this.#busy = counter({
      name: 'huly_network_client_busy_total',
      help: 'Busy push-backs clients received; each request is sent again after a pause.',
    })
    this.#served = new TimedRequests(registry, 'kind', {
      name: 'huly_network_agent_requests_total',
      help: 'Requests the containers of agents served, by container kind and outcome.',
    }, {
      name: 'huly_network_agent_request_duration_seconds',
      help: 'Time a container took to answer a request, by container kind.',
    })
  }

  /** The process's metrics, or undefined while no meter provider is registered. */
  static get(): ClientMetrics | undefined {
    if (shared !== undefined) return shared
    // Looked at again only when another provider is registered: cheap on every request.
    const provider = otelMetrics.getMeterProvider()
    if (provider === checked) return undefined
    checked = provider
    const registry = new MetricsRegistry()
    if (registry.mirrored) shared = new ClientMetrics(registry)
    return shared
  }

  /** A request a client sent, answered (or failed) after `seconds`. */
  request(operation: string, seconds: number, failed: boolean): void {
    this.#requests.record(operation, seconds, failed)
  }

  /** A request a container of an agent served. */
  served(kind: string, seconds: number, failed: boolean): void {
    this.#served.record(kind, seconds, failed)
  }

  /** A client handshook with the coordinator again. */
  reconnect(): void {
    this.#reconnects.inc()
  }

  /** A client was told "busy". */
  busy(): void {
    this.#busy.inc()
  }
}

let shared: ClientMetrics | undefined
let checked: MeterProvider | undefined
