// The coordinator's HTTP endpoint: health and readiness, /metrics as valid
// Prometheus text whose counters move with traffic, /api/state, the live stream,
// bad requests answered 404/405, and no port at all when it is disabled.
import assert from 'node:assert/strict'
import { createNetworkClient } from '../../client/mod.ts'
import { type ContainerFactory, MetricsRegistry } from '../../core/mod.ts'
import { readCoordinatorConfig } from '../../cli/serve_config.ts'
import {
  type CoordinatorState,
  type NetworkServer,
  type NetworkServerOptions,
  startCoordinator as startInProcess,
} from '../../server/mod.ts'
import { startAgent, startCoordinator, within } from '../integration/_process.ts'
import { parsePrometheus, valueOf } from './_prometheus.ts'

const echo: ContainerFactory = (options) =>
  Promise.resolve({
    uuid: options.uuid,
    container: {
      request: (operation, data) => {
        if (operation === 'fail') return Promise.reject(new RangeError('no'))
        if (operation === 'slow') return new Promise((resolve) => setTimeout(resolve, 30, data))
        return Promise.resolve(data)
      },
    },
  })

/** A coordinator with its HTTP endpoint, an agent host and a client, in this process. */
async function withCoordinator(
  body: (
    http: { url: string },
    client: Awaited<ReturnType<typeof createNetworkClient>>,
    server: NetworkServer,
  ) => Promise<void>,
  options: NetworkServerOptions = {},
): Promise<void> {
  await using coordinator = await startInProcess({
    port: 0,
    metrics: new MetricsRegistry({ openTelemetry: false }),
    ...options,
    http: { port: 0, streamIntervalMs: 200 },
  })
  const { server } = coordinator
  const http = { url: coordinator.httpUrl! }
  await using host = await createNetworkClient(server.endpoint, { clientId: 'host-1' })
  await using client = await createNetworkClient(server.endpoint, { clientId: 'client-1' })
  await host.serveAgent('127.0.0.1:0', { echo }, { agentId: 'agent-1' })
  await body(http, client, server)
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; text: string }> {
  const response = await fetch(url, init)
  return { status: response.status, text: await response.text() }
}

Deno.test('/metrics is valid Prometheus text and its counters move when requests flow', async () => {
  await withCoordinator(async (http, client) => {
    const before = parsePrometheus((await get(`${http.url}/metrics`)).text)
    const ref = await client.get('echo', { uuid: 'e1', labels: ['tenant:1'] })
    for (let i = 0; i < 25; i++) await ref.request('echo', i)
    await assert.rejects(ref.request('fail', 0))
    const response = await fetch(`${http.url}/metrics`)
    assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    const after = parsePrometheus(await response.text())

    const routed = { operation: 'network.request', kind: 'echo' }
    const ok = { ...routed, outcome: 'ok' }
    const failed = { ...routed, outcome: 'error' }
    assert.equal(valueOf(before, 'huly_network_requests_total', ok), 0)
    assert.equal(valueOf(after, 'huly_network_requests_total', ok), 25)
    assert.equal(valueOf(after, 'huly_network_requests_total', failed), 1)
    assert.equal(
      valueOf(after, 'huly_network_request_errors_total', { ...routed, error: 'RangeError' }),
      1,
    )
    assert.equal(valueOf(after, 'huly_network_request_duration_seconds_count', routed), 26)
    assert.ok(valueOf(after, 'huly_network_request_duration_seconds_sum', routed) > 0)
    assert.equal(
      valueOf(after, 'huly_network_requests_total', {
        operation: 'network.get',
        kind: 'echo',
        outcome: 'ok',
      }),
      1,
    )
    assert.equal(valueOf(after, 'huly_network_containers', { kind: 'echo', state: 'live' }), 1)
    assert.equal(valueOf(after, 'huly_network_agents'), 1)
    assert.equal(valueOf(after, 'huly_network_references'), 1)
    assert.equal(valueOf(after, 'huly_network_sessions'), 2)
    assert.ok(
      valueOf(after, 'huly_network_events_total', { subject: 'container', change: 'added' }) >= 1,
    )
    assert.ok(valueOf(after, 'process_resident_memory_bytes') > 0)
    for (const family of after.values()) {
      assert.ok(family.help.length > 0, `${family.name} has help`)
    }
  })
})

Deno.test('/healthz, /readyz and /api/state answer; unknown paths get 404 and other methods 405', async () => {
  await withCoordinator(async (http, client) => {
    const ref = await client.get('echo', { labels: ['tenant:7'] })
    assert.deepEqual(await get(`${http.url}/healthz`), { status: 200, text: 'ok\n' })
    assert.deepEqual(await get(`${http.url}/readyz`), { status: 200, text: 'ready\n' })
    const state = JSON.parse((await get(`${http.url}/api/state`)).text) as CoordinatorState
    assert.deepEqual(state.agents.map((agent) => [agent.agentId, agent.kinds, agent.clientId]), [
      ['agent-1', ['echo'], 'host-1'],
    ])
    assert.deepEqual(
      state.containers.map((c) => [c.uuid, c.kind, c.state, c.labels, c.references]),
      [[ref.uuid, 'echo', 'live', ['tenant:7'], 1]],
    )
    const holder = state.clients.find((c) => c.clientId === 'client-1')
    assert.deepEqual(holder?.references, [{ uuid: ref.uuid, count: 1 }])
    assert.deepEqual(state.sessions.toSorted(), ['client-1', 'host-1'])

    assert.equal((await get(`${http.url}/nope`)).status, 404)
    assert.equal((await get(`${http.url}/metrics/../x%00`)).status, 404)
    const post = await fetch(`${http.url}/metrics`, { method: 'POST', body: 'x' })
    assert.equal(post.status, 405)
    assert.equal(post.headers.get('allow'), 'GET, HEAD')
    await post.body?.cancel()
    for (const path of ['/metrics', '/api/events']) {
      const head = await fetch(`${http.url}${path}`, { method: 'HEAD' })
      assert.equal(head.status, 200)
      assert.equal(await head.text(), '')
    }
    const page = await fetch(`${http.url}/`)
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(await page.text(), /<title>Huly Network<\/title>/)

    // Garbage on the socket harms nobody.
    const connection = await Deno.connect({ port: Number(new URL(http.url).port) })
    await connection.write(new TextEncoder().encode('\x00\xff GARBAGE\r\n\r\n'))
    await connection.read(new Uint8Array(256)).catch(() => null)
    connection.close()
    assert.equal((await get(`${http.url}/healthz`)).status, 200)
  })
})

Deno.test('busy push-backs are counted when a client passes its in-flight limit', async () => {
  await withCoordinator(async (http, client) => {
    const ref = await client.get('echo')
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => ref.request('slow', i)))
    assert.deepEqual(answers, [0, 1, 2, 3, 4, 5])
    const metrics = parsePrometheus((await get(`${http.url}/metrics`)).text)
    assert.ok(valueOf(metrics, 'huly_network_busy_total', { direction: 'sent' }) >= 1)
    assert.equal(
      valueOf(metrics, 'huly_network_requests_total', {
        operation: 'network.request',
        kind: 'echo',
        outcome: 'ok',
      }),
      6,
    )
  }, { maxInFlight: 2 })
})

Deno.test('/readyz answers 503 once the coordinator is closing', async () => {
  await withCoordinator(async (http, _client, server) => {
    assert.equal((await get(`${http.url}/readyz`)).status, 200)
    await server.close()
    assert.deepEqual(await get(`${http.url}/readyz`), { status: 503, text: 'not ready\n' })
    assert.equal((await get(`${http.url}/healthz`)).status, 200)
  })
})

Deno.test('a restarted coordinator counts the peers that come back as reconnects', async () => {
  await using first = await startCoordinator()
  await using _agent = await startAgent(first.endpoint, 'agent-back')
  await first.proc.stop()
  await using second = await startCoordinator(first.port)
  const url = (await second.proc.waitFor(/http endpoint on (http:\/\/\S+)/))[1]
  await within(10_000, 'the agent reconnects', async () => {
    for (;;) {
      const metrics = parsePrometheus((await get(`${url}/metrics`)).text)
      if (
        valueOf(metrics, 'huly_network_reconnects_total') >= 1 &&
        valueOf(metrics, 'huly_network_agents') === 1
      ) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })
})

Deno.test('the live stream sends the state, then each change and statistics', async () => {
  await withCoordinator(async (http, client) => {
    const response = await fetch(`${http.url}/api/events`)
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/)
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let received = ''
    /** Reads until `pattern` matches what came after `from`; returns where it ends. */
    const next = async (pattern: RegExp, from = 0): Promise<number> => {
      const deadline = Date.now() + 5000
      for (;;) {
        const match = pattern.exec(received.slice(from))
        if (match) return from + match.index + match[0].length
        assert.ok(Date.now() < deadline, `no ${pattern} in the stream: ${received.slice(-1500)}`)
        const { value, done } = await reader.read()
        assert.ok(!done)
        received += value
      }
    }
    try {
      await next(/event: state\ndata: \{.*"agentId":"agent-1"/)
      const ref = await client.get('echo', { uuid: 'streamed' })
      await next(/event: change\ndata: \{.*"type":"added".*"uuid":"streamed"/)
      for (let i = 0; i < 20; i++) await ref.request('echo', i)
      await next(/event: stats\ndata: \{.*"operation":"network.request","kind":"echo"/)
      // The agent's rate comes with the statistics, and falls back to 0 when traffic stops.
      const busy = await next(/"agents":\[\{"agentId":"agent-1","perSecond":[1-9]/)
      await next(/"agents":\[\{"agentId":"agent-1","perSecond":0,/, busy)
    } finally {
      await reader.cancel()
    }
  })
})

/** The output of a command (Deno reads /proc/PID/fd and /proc/net only with --allow-all). */
async function output(command: string, args: string[]): Promise<string> {
  const { stdout } = await new Deno.Command(command, { args, stdout: 'piped', stderr: 'null' })
    .output()
  return new TextDecoder().decode(stdout)
}

/** TCP ports the process `pid` listens on: its socket inodes, found in the kernel's tables. */
async function listeningPorts(pid: number): Promise<number[]> {
  const links = await output('find', [`/proc/${pid}/fd`, '-lname', 'socket:*', '-printf', '%l\\n'])
  const inodes = new Set([...links.matchAll(/socket:\[(\d+)\]/g)].map((match) => match[1]))
  const tables = await output('cat', ['/proc/net/tcp', '/proc/net/tcp6'])
  const ports: number[] = []
  for (const line of tables.split('\n')) {
    const fields = line.trim().split(/\s+/)
    if (fields.length < 10 || fields[3] !== '0A' || !inodes.has(fields[9])) continue
    ports.push(parseInt(fields[1].split(':')[1], 16))
  }
  return ports.toSorted()
}

Deno.test('with the HTTP endpoint disabled, the coordinator opens no port but its own', async () => {
  const probe = Deno.listen({ hostname: '127.0.0.1', port: 0 })
  const httpPort = (probe.addr as Deno.NetAddr).port
  probe.close()
  {
    await using off = await startCoordinator(0, ['--http-port', String(httpPort), '--no-http'])
    assert.ok(!off.proc.lines.some((line) => /http endpoint/.test(line)), off.proc.lines.join('\n'))
    assert.deepEqual(await listeningPorts(off.proc.pid), [off.port])
    await assert.rejects(
      Deno.connect({ hostname: '127.0.0.1', port: httpPort }),
      Deno.errors.ConnectionRefused,
    )
  }
  // The same coordinator with it on listens on exactly one more port, the HTTP one.
  await using on = await startCoordinator(0, ['--http-port', String(httpPort)])
  const url = (await on.proc.waitFor(/http endpoint on (http:\/\/\S+)/))[1]
  assert.equal(url, `http://127.0.0.1:${httpPort}`)
  assert.deepEqual(await listeningPorts(on.proc.pid), [on.port, httpPort].toSorted())
  assert.equal((await get(`${url}/healthz`)).status, 200)
})

Deno.test('the HTTP endpoint is on 127.0.0.1:3780 by default, configured by flags or environment', () => {
  const where = (args: string[], env?: (name: string) => string | undefined) => {
    const http = readCoordinatorConfig(args, env)!.http
    return http && { host: http.host, port: http.port }
  }
  assert.deepEqual(where([]), { host: '127.0.0.1', port: 3780 })
  assert.deepEqual(where(['--http-port', '0', '--http-host', '0.0.0.0']), {
    host: '0.0.0.0',
    port: 0,
  })
  const env = (values: Record<string, string>) => (name: string) => values[name]
  assert.equal(readCoordinatorConfig(['--no-http'])!.http, undefined)
  assert.equal(readCoordinatorConfig([], env({ HULY_NETWORK_HTTP: 'off' }))!.http, undefined)
  assert.deepEqual(where([], env({ HULY_NETWORK_HTTP_PORT: '9100' })), {
    host: '127.0.0.1',
    port: 9100,
  })
  const limits = readCoordinatorConfig(['--http-header-timeout', '2'])!.http!
  assert.equal(limits.headerTimeoutMs, 2000)
  assert.equal(limits.maxConnections, 500)
  assert.throws(() => readCoordinatorConfig(['--http-port', '99999']), /--http-port must be/)
  assert.throws(() => readCoordinatorConfig([], env({ HULY_NETWORK_HTTP: 'maybe' })), /on or off/)
})
