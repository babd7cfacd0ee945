// deno-lint-ignore-file no-console -- the test reports its figures
import assert from 'node:assert/strict'
import { Proc, startNetwork } from './_process.ts'

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

Deno.test('1k clients in 4 processes each hold a reference; coordinator memory and request latency stay bounded', async () => {
  // Generous liveness: 1k clients on 2 busy cores must not be taken for dead.
  await using net = await startNetwork({
    coordinator: ['--alive-timeout', '10'],
    agents: ['agent-1'],
    client: {},
  })
  const { coordinator, endpoint, client } = net
  await using clientProcs = new AsyncDisposableStack()
  const probe = await client.get('echo', { uuid: 'probe' })
  const latency = async () => {
    const samples: number[] = []
    for (let i = 0; i < 300; i++) {
      const start = performance.now()
      await probe.request('echo', i)
      samples.push(performance.now() - start)
    }
    samples.sort((a, b) => a - b)
    return { p50: samples[150], p99: samples[296] }
  }
  const idle = await latency()
  const before = await coordinator.rss()
  const procs = Array.from(
    { length: 4 },
    (_, p) =>
      clientProcs.use(new Proc(`clients-${p}`, './_many_clients.ts', [endpoint, '250', `c${p}`])),
  )
  await Promise.all(procs.map((proc) => proc.waitFor(/^ready 250$/, 90_000)))
  const loaded = await latency()
  const after = await coordinator.rss()
  const containers = await client.list('echo')
  assert.equal(containers.length, 1001)
  const perClient = (after - before) / 1000
  console.log(
    `coordinator RSS ${mib(before)} MiB -> ${mib(after)} MiB with 1k clients and 1k containers ` +
      `(${(perClient / 1024).toFixed(1)} KiB per client+container); request latency ` +
      `p50 ${idle.p50.toFixed(2)} -> ${loaded.p50.toFixed(2)} ms, p99 ${idle.p99.toFixed(2)} -> ${
        loaded.p99.toFixed(2)
      } ms`,
  )
  assert.ok(after - before < 256 * 1024 * 1024, `coordinator grew by ${mib(after - before)} MiB`)
  await probe.close()
})
