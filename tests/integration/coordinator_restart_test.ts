// deno-lint-ignore-file no-console -- the test reports what it measured
// A coordinator restarted with SIGTERM: it says bye "restarting", exits 0, and its
// clients keep their requests and send them to the next one: none fails, none runs twice.
import assert from 'node:assert/strict'
import { Proc, startNetwork, within } from './_process.ts'

Deno.test('a coordinator restarted with SIGTERM loses no request and runs none twice', async () => {
  const reasons: string[] = []
  await using net = await startNetwork({
    client: {
      timeouts: { aliveTimeoutMs: 2000, pingIntervalMs: 500 },
      onConnectionChange: (connected, reason) => {
        if (!connected && reason !== undefined) reasons.push(reason)
      },
    },
  })
  const { client } = net
  await using agent = new Proc('agent', '../../cli/main.ts', [
    'agent',
    '--network',
    net.endpoint,
    '--id',
    'a1',
    '--no-endpoint',
  ])
  await agent.waitFor(/registered with/)
  const refs = await Promise.all(
    Array.from({ length: 5 }, (_, i) => client.get('counter', { uuid: `restart-${i}` })),
  )
  const ok = refs.map(() => 0)
  let failed = 0
  let slowest = 0
  let running = true
  const loops = refs.map(async (ref, i) => {
    while (running) {
      const started = performance.now()
      try {
        await ref.request('increment', null, { timeoutMs: 15_000 })
        ok[i]++
      } catch (error) {
        failed++
        console.error(`request to ${ref.uuid} failed: ${error}`)
      }
      slowest = Math.max(slowest, performance.now() - started)
    }
  })
  await new Promise((resolve) => setTimeout(resolve, 500))
  net.coordinator.kill('SIGTERM')
  assert.equal((await net.coordinator.done).code, 0)
  await net.restartCoordinator()
  await new Promise((resolve) => setTimeout(resolve, 2_000))
  running = false
  await within(20_000, 'the request loops', () => Promise.all(loops))

  assert.ok(reasons.includes('server said bye: restarting'), reasons.join(', '))
  assert.equal(failed, 0)
  for (const [i, ref] of refs.entries()) {
    assert.equal(await ref.request('get'), ok[i], `${ref.uuid} ran each increment once`)
  }
  console.log(
    `${ok.reduce((a, b) => a + b)} requests, 0 failed, slowest ${slowest.toFixed(0)} ms`,
  )
})
