// One routed request is one trace: spans of the client, the coordinator and the
// agent (and the container's work) share a trace id and chain parent to child. The
// three parts run in this process but talk over real ZeroMQ sockets, so the trace
// context crosses the wire in the request header.
import assert from 'node:assert/strict'
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { createNetworkClient, type NetworkClient } from '../../client/mod.ts'
import type { ContainerFactory } from '../../core/mod.ts'
import { parseTraceparent, traceparentOf, TracerName } from '../../observability/tracing.ts'
import { startCoordinator } from '../../server/mod.ts'

const echo: ContainerFactory = (options) =>
  Promise.resolve({
    uuid: options.uuid,
    container: { request: (_operation, data) => Promise.resolve(data) },
  })

async function waitForSpans(
  exporter: InMemorySpanExporter,
  count: number,
): Promise<ReadableSpan[]> {
  for (let i = 0; i < 200; i++) {
    const spans = exporter.getFinishedSpans()
    if (spans.length >= count) return spans
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return exporter.getFinishedSpans()
}

/** A coordinator, an agent host and a client in this process, with spans collected in memory. */
async function withTracedNetwork(
  factories: Record<string, ContainerFactory>,
  body: (client: NetworkClient, exporter: InMemorySpanExporter) => Promise<void>,
): Promise<void> {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  assert.ok(trace.setGlobalTracerProvider(provider))
  await using _tracing = {
    async [Symbol.asyncDispose]() {
      trace.disable()
      await provider.shutdown()
    },
  }
  await using coordinator = await startCoordinator({ port: 0 })
  const { server } = coordinator
  await using host = await createNetworkClient(server.endpoint, { clientId: 'agent-host' })
  await using client = await createNetworkClient(server.endpoint, { clientId: 'traced-client' })
  await host.serveAgent('127.0.0.1:0', factories, { agentId: 'agent-1' })
  await body(client, exporter)
}

Deno.test('a routed request is one trace with spans from the client, the coordinator and the agent', async () => {
  await withTracedNetwork({ echo }, async (client, exporter) => {
    const ref = await client.get('echo', { uuid: 'echo-1' })
    exporter.reset()

    assert.deepEqual(await client.request(ref.uuid, 'say', { hello: 1 }), { hello: 1 })

    const spans = await waitForSpans(exporter, 4)
    const scope = (name: string) => spans.filter((span) => span.instrumentationScope.name === name)
    const [clientSpan] = scope(TracerName.client)
    const [coordinatorSpan] = scope(TracerName.coordinator)
    const agentSpans = scope(TracerName.agent)
    assert.ok(clientSpan && coordinatorSpan, spans.map((span) => span.name).join(', '))
    assert.equal(agentSpans.length, 2)
    const agentSpan = agentSpans.find((span) => span.kind === SpanKind.SERVER)!
    const containerSpan = agentSpans.find((span) => span.kind === SpanKind.INTERNAL)!

    const traceId = clientSpan.spanContext().traceId
    for (const span of spans) assert.equal(span.spanContext().traceId, traceId, span.name)
    assert.equal(clientSpan.kind, SpanKind.CLIENT)
    assert.equal(clientSpan.parentSpanContext, undefined)
    assert.equal(coordinatorSpan.kind, SpanKind.SERVER)
    assert.equal(coordinatorSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId)
    assert.equal(agentSpan.parentSpanContext?.spanId, coordinatorSpan.spanContext().spanId)
    assert.equal(containerSpan.parentSpanContext?.spanId, agentSpan.spanContext().spanId)

    assert.equal(coordinatorSpan.name, 'network.request echo')
    assert.equal(coordinatorSpan.attributes['huly.container.uuid'], 'echo-1')
    assert.equal(coordinatorSpan.attributes['huly.agent.id'], 'agent-1')
    assert.equal(agentSpan.attributes['huly.container.operation'], 'say')
    assert.equal(containerSpan.name, 'container echo.say')
  })
})

Deno.test('a failed routed request marks the span of every hop as an error', async () => {
  const failing: ContainerFactory = (options) =>
    Promise.resolve({
      uuid: options.uuid,
      container: { request: () => Promise.reject(new RangeError('out of range')) },
    })
  await withTracedNetwork({ failing }, async (client, exporter) => {
    const ref = await client.get('failing')
    exporter.reset()
    await assert.rejects(ref.request('x', 1), /out of range/)
    const spans = await waitForSpans(exporter, 4)
    assert.equal(spans.length, 4)
    for (const span of spans) assert.equal(span.status.code, SpanStatusCode.ERROR, span.name)
  })
})

Deno.test('a traceparent is parsed only when well formed', () => {
  const good = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
  assert.deepEqual(parseTraceparent(good), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    isRemote: true,
  })
  for (
    const bad of [
      undefined,
      42,
      '',
      'garbage',
      good.toUpperCase(),
      good.replace('b7ad', '0000').replace(/-[0-9a-f]{16}-/, '-0000000000000000-'),
      `ff${good.slice(2)}`,
    ]
  ) {
    assert.equal(parseTraceparent(bad), undefined, String(bad))
  }
})

Deno.test('without a span, only a well-formed incoming traceparent is passed on', () => {
  const good = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
  assert.equal(traceparentOf(undefined, good), good)
  assert.equal(traceparentOf(undefined, 'x'.repeat(55)), undefined)
  assert.equal(traceparentOf(undefined, `${good}${'0'.repeat(1000)}`), undefined)
  assert.equal(traceparentOf(undefined, undefined), undefined)
})

Deno.test('a get that starts a container is one trace, down to the start on the agent', async () => {
  await withTracedNetwork({ echo }, async (client, exporter) => {
    exporter.reset()
    await client.get('echo', { uuid: 'started-1' })
    const spans = await waitForSpans(exporter, 3)
    const byScope = (scope: string) =>
      spans.find((span) => span.instrumentationScope.name === scope)!
    const clientSpan = byScope(TracerName.client)
    const coordinatorSpan = byScope(TracerName.coordinator)
    const startSpan = byScope(TracerName.agent)
    assert.deepEqual(
      [clientSpan.name, coordinatorSpan.name, startSpan.name],
      ['network.get', 'network.get', 'agent.start echo'],
    )
    for (const span of spans) {
      assert.equal(span.spanContext().traceId, clientSpan.spanContext().traceId)
    }
    assert.equal(coordinatorSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId)
    assert.equal(startSpan.parentSpanContext?.spanId, coordinatorSpan.spanContext().spanId)
    assert.equal(startSpan.attributes['huly.container.uuid'], 'started-1')
  })
})
