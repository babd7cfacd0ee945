// deno-lint-ignore-file no-console -- the test reports its figures
import assert from 'node:assert/strict'
import { startNetwork, within } from '../integration/_process.ts'

/** A coordinator, one echo agent and a client, with liveness generous enough for the load. */
const startSlowNetwork = () =>
  startNetwork({
    coordinator: ['--alive-timeout', '10'],
    agents: ['agent-1'],
    client: { timeouts: { aliveTimeoutMs: 10_000 } },
  })

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

Deno.test('10k requests in flight towards a slow container: busy push-back, every one answered once, none lost or run twice, memory bounded', async () => {
  await using net = await startSlowNetwork()
  const { coordinator, client } = net
  const ref = await client.get('echo', { uuid: 'slow' })
  const before = await coordinator.rss()
  const started = performance.now()
  let peak = before
  const sampler = setInterval(async () => {
    peak = Math.max(peak, await coordinator.rss().catch(() => 0))
  }, 100)
  const answers = await within(60_000, '10k requests', () =>
    Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        ref.request('slow', { i, ms: 20 }, { timeoutMs: 50_000 })),
    )).finally(() => clearInterval(sampler))
  const seconds = (performance.now() - started) / 1000
  assert.deepEqual(answers, Array.from({ length: 10_000 }, (_, i) => i))
  assert.deepEqual(await ref.request('executions'), { total: 10_000, distinct: 10_000 })
  console.log(
    `10k slow requests in flight answered in ${seconds.toFixed(1)} s; coordinator RSS ` +
      `${mib(before)} MiB, peak ${mib(peak)} MiB`,
  )
  assert.ok(peak - before < 256 * 1024 * 1024, `coordinator grew ${mib(peak - before)} MiB`)
  await ref.close()
})

Deno.test('requests that cannot be served in time fail with TimeoutError, none hangs', async () => {
  await using net = await startSlowNetwork()
  const { client } = net
  const ref = await client.get('echo')
  const results = await within(30_000, 'all settled', () =>
    Promise.allSettled(
      Array.from({ length: 3_000 }, (_, i) =>
        ref.request('slow', { i, ms: 5_000 }, { timeoutMs: 1_000 })),
    ))
  const reasons = new Set(
    results.map((r) => r.status === 'rejected' ? (r.reason as Error).name : 'fulfilled'),
  )
  assert.deepEqual([...reasons], ['TimeoutError'])
  await ref.close()
})
