// Separate processes with Deno's own OpenTelemetry export (OTEL_DENO=true) and a
// local OTLP/HTTP receiver in the test: the client, coordinator and agent processes
// each export spans of one routed request under one trace id, and the coordinator
// exports its metrics (the same measurements /metrics shows) with no collector.
import assert from 'node:assert/strict'
import { startAgent, startCoordinator, within } from '../integration/_process.ts'

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
}

/** Receives OTLP/HTTP JSON on a free port: spans by service, and metric names. */
class OtlpReceiver {
  readonly spans = new Map<string, OtlpSpan[]>()
  /** Metric names by service. */
  readonly metrics = new Map<string, Set<string>>()
  readonly #server: Deno.HttpServer<Deno.NetAddr>

  constructor() {
    this.#server = Deno.serve(
      { hostname: '127.0.0.1', port: 0, onListen: () => {} },
      (request) => this.#receive(request),
    )
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`
  }

  async #receive(request: Request): Promise<Response> {
    const body = await request.json().catch(() => ({}))
    const path = new URL(request.url).pathname
    for (const resource of body.resourceSpans ?? []) {
      const service = serviceOf(resource)
      for (const scope of resource.scopeSpans ?? []) {
        this.spans.set(service, [...(this.spans.get(service) ?? []), ...scope.spans ?? []])
      }
    }
    for (const resource of body.resourceMetrics ?? []) {
      const service = serviceOf(resource)
      let names = this.metrics.get(service)
      if (names === undefined) this.metrics.set(service, names = new Set())
      for (const scope of resource.scopeMetrics ?? []) {
        for (const metric of scope.metrics ?? []) names.add(metric.name)
      }
    }
    return Response.json(path === '/v1/traces' ? { partialSuccess: {} } : {})
  }

  close(): Promise<void> {
    return this.#server.shutdown()
  }
}

function serviceOf(resource: { resource?: { attributes?: unknown[] } }): string {
  const attributes = (resource.resource?.attributes ?? []) as Array<
    { key: string; value: { stringValue?: string } }
  >
  return attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?'
}

/** The OTEL_* variables that children inherit, set around `fn` only. */
async function withOtel<T>(receiver: string, service: string, fn: () => Promise<T>): Promise<T> {
  const variables = {
    OTEL_DENO: 'true',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRIC_EXPORT_INTERVAL: '500',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_SERVICE_NAME: service,
  }
  for (const [name, value] of Object.entries(variables)) Deno.env.set(name, value)
  try {
    return await fn()
  } finally {
    for (const name of Object.keys(variables)) Deno.env.delete(name)
  }
}

Deno.test('with OTEL_DENO=true, each process exports its spans of one routed request under one trace id, and its metrics', async () => {
  const receiver = new OtlpReceiver()
  const coordinator = await withOtel(receiver.url, 'coordinator', () => startCoordinator())
  let agent
  try {
    agent = await withOtel(receiver.url, 'agent', () => startAgent(coordinator.endpoint, 'otlp-a'))
    const client = await withOtel(receiver.url, 'client', () =>
      new Deno.Command(Deno.execPath(), {
        args: [
          'run',
          '--allow-all',
          new URL('./_traced_client.ts', import.meta.url).pathname,
          coordinator.endpoint,
        ],
        stdout: 'piped',
        stderr: 'piped',
        signal: AbortSignal.timeout(30_000), // killed if it hangs
      }).output())
    const output = new TextDecoder().decode(client.stdout)
    assert.match(output, /answered \{"hello":"otlp"\}/, new TextDecoder().decode(client.stderr))

    // The client exported on exit; the coordinator and the agent within their export delay.
    const routed = await within(20_000, 'spans of the routed request', async () => {
      for (;;) {
        const clientSpan = receiver.spans.get('client')?.find((s) => s.name === 'network.request')
        const trace = clientSpan?.traceId
        const inTrace = (service: string) =>
          (receiver.spans.get(service) ?? []).filter((span) => span.traceId === trace)
        if (clientSpan && inTrace('coordinator').length > 0 && inTrace('agent').length >= 2) {
          return { clientSpan, coordinator: inTrace('coordinator'), agent: inTrace('agent') }
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })
    const [coordinatorSpan] = routed.coordinator
    assert.equal(coordinatorSpan.name, 'network.request echo')
    assert.equal(coordinatorSpan.parentSpanId, routed.clientSpan.spanId)
    const agentSpan = routed.agent.find((span) => span.name === 'agent.request echo')!
    assert.equal(agentSpan.parentSpanId, coordinatorSpan.spanId)
    const containerSpan = routed.agent.find((span) => span.name === 'container echo.echo')!
    assert.equal(containerSpan.parentSpanId, agentSpan.spanId)

    // Each process its own: the coordinator's requests, the client's and the agent's view.
    const expected = {
      coordinator: ['huly_network_requests', 'huly_network_request_duration_seconds'],
      client: ['huly_network_client_requests', 'huly_network_client_request_duration_seconds'],
      agent: ['huly_network_agent_requests', 'huly_network_agent_request_duration_seconds'],
    }
    await within(10_000, 'metrics of every process', async () => {
      const missing = () =>
        Object.entries(expected).flatMap(([service, names]) =>
          names.filter((name) => !receiver.metrics.get(service)?.has(name))
        )
      while (missing().length > 0) await new Promise((resolve) => setTimeout(resolve, 100))
    })
    assert.ok(receiver.metrics.get('coordinator')!.has('huly_network_agents'))
  } finally {
    await agent?.stop()
    await coordinator.proc.stop()
    await receiver.close()
  }
})
