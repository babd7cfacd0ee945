// Acceptance of issue 18, the edges, with real processes: a terminate that hangs, a
// drain with nowhere to go, a request held past its deadline, a hand-over too large.
import assert from 'node:assert/strict'
import type { NetworkClient } from '../../client/mod.ts'
import { RemoteError, TimeoutError } from '../../core/mod.ts'
import { type Proc, startNetwork } from '../integration/_process.ts'
import { drain, startRollingAgent } from './_rolling.ts'

/** A coordinator, agent `a1` (drain deadline `drainMs`) and a client holding `uuid` of `kind` there. */
async function withOldAgent(
  kind: string,
  uuid: string,
  drainMs: number,
  fn: (
    setup: { old: Proc; endpoint: string; client: NetworkClient; agents: Proc[] },
  ) => Promise<void>,
): Promise<void> {
  await using net = await startNetwork({
    agents: ['a1'],
    agent: (endpoint, id) => startRollingAgent(endpoint, id, drainMs),
  })
  const { endpoint, client, agents } = net
  const ref = await client.get(kind, { uuid })
  assert.equal(ref.record.agentId, 'a1')
  await fn({ old: agents[0], endpoint, client, agents })
}

Deno.test('a terminate that hangs is cut short at the drain deadline and the move goes on', async () => {
  await withOldAgent('hang', 'h-1', 1_500, async ({ old, endpoint, client, agents }) => {
    await client.request('h-1', 'increment')
    const next = await startRollingAgent(endpoint, 'a2')
    agents.push(next)
    const result = await drain(old)
    assert.equal(result.moved, 1)
    assert.ok(result.durationMs >= 1_400 && result.durationMs < 4_000, `${result.durationMs} ms`)
    assert.ok(old.lines.some((line) => line.startsWith('hanging h-1')))
    assert.ok(old.lines.some((line) => /^log warning terminate of h-1 did not finish/.test(line)))
    await next.waitFor(/^activate h-1 \d+ from 1$/)
    assert.equal(await client.request('h-1', 'get'), 1)
  })
})

Deno.test('a drain with no other agent of the kind ends at its deadline with a clear message', async () => {
  await withOldAgent('counter', 'alone', 1_500, async ({ old }) => {
    const result = await drain(old)
    assert.equal(result.complete, false)
    assert.equal(result.left, 1)
    assert.match(result.reason ?? '', /no other agent offers kind "counter"/)
    assert.ok(result.durationMs >= 1_400 && result.durationMs < 4_000, `${result.durationMs} ms`)
  })
})

Deno.test('a request held past its own deadline fails with TimeoutError', async () => {
  await withOldAgent('counter', 's-1', 10_000, async ({ old, endpoint, client, agents }) => {
    agents.push(await startRollingAgent(endpoint, 'a2'))
    const sleeping = client.request('s-1', 'sleep', { ms: 2_000 })
    await new Promise((resolve) => setTimeout(resolve, 200))
    const draining = drain(old)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const started = performance.now()
    const error = await client.request('s-1', 'increment', null, { timeoutMs: 500 }).then(
      () => undefined,
      (error) => error,
    )
    const isTimeout = error instanceof TimeoutError ||
      (error instanceof RemoteError && error.remoteName === 'TimeoutError')
    assert.ok(isTimeout, `held past its deadline: ${error}`)
    assert.ok(performance.now() - started < 1_500)
    assert.equal(await sleeping, 1, 'the request in flight finished on the old copy')
    assert.equal((await draining).moved, 1)
    assert.equal(await client.request('s-1', 'get'), 1, 'the timed-out request never ran')
  })
})

Deno.test('a hand-over over the limit is refused with HandOverTooLargeError and the container starts fresh', async () => {
  await withOldAgent('big', 'b-1', 5_000, async ({ old, endpoint, agents }) => {
    const next = await startRollingAgent(endpoint, 'a2')
    agents.push(next)
    assert.equal((await drain(old)).moved, 1)
    assert.ok(
      old.lines.some((line) => /^log error HandOverTooLargeError: .* over the limit/.test(line)),
      old.lines.join('\n'),
    )
    await next.waitFor(/^activate b-1 \d+ from null$/)
  })
})
