import assert from 'node:assert/strict'
import { AgentImpl, type AgentUuid } from '../../core/mod.ts'
import { echoFactory, peer, TestCoordinator } from './_fixture.ts'

Deno.test('a peer over its request rate gets RateLimitError; another peer keeps being served', async () => {
  const agent = peer('worker', 'agent')
  const greedy = peer('greedy', 'client')
  const polite = peer('polite', 'client')
  await using coordinator = new TestCoordinator([agent, greedy, polite], {
    rateLimit: { perSecond: 20, burst: 20 },
  })
  const host = await coordinator.client(agent.keys)
  await host.register(new AgentImpl('worker-1' as AgentUuid, { echo: echoFactory }))
  const hog = await coordinator.client(greedy.keys)
  const ref = await hog.get('echo', { uuid: 'shared' })
  const started = performance.now()
  const results = await Promise.allSettled(
    Array.from({ length: 100 }, (_, i) => ref.request('echo', i)),
  )
  const seconds = (performance.now() - started) / 1000
  const limited = results.filter((result) =>
    result.status === 'rejected' && result.reason.name === 'RateLimitError' &&
    result.reason.code === 'RATE_LIMITED' && result.reason.remote
  )
  const served = results.filter((result) => result.status === 'fulfilled')
  // The burst, and what the bucket refilled while they ran (however slow the machine).
  const allowed = 20 + Math.ceil(20 * seconds)
  assert.ok(
    served.length >= 1 && served.length <= allowed,
    `${served.length} served, ${allowed} allowed`,
  )
  assert.ok(limited.length >= 100 - allowed, `${limited.length} of 100 limited`)
  assert.equal(limited.length + served.length, 100)
  const other = await coordinator.client(polite.keys)
  assert.equal(await other.request('shared', 'echo', 'still served'), 'still served')
})

Deno.test('without keys the rate limit applies per connection', async () => {
  await using coordinator = new TestCoordinator(undefined, { rateLimit: { perSecond: 5 } })
  const client = await coordinator.client()
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.kinds()))
  const limited = results.filter((result) => result.status === 'rejected')
  assert.ok(limited.length >= 10, `${limited.length} of 20 limited`)
  assert.equal(await (await coordinator.client()).kinds().then((kinds) => kinds.length), 0)
})

Deno.test('a peer does not refill its bucket by reconnecting', async () => {
  const greedy = peer('greedy', 'client')
  await using coordinator = new TestCoordinator([greedy], {
    rateLimit: { perSecond: 1, burst: 10 },
  })
  const first = await coordinator.client(greedy.keys)
  await Promise.allSettled(Array.from({ length: 15 }, () => first.kinds()))
  const emptied = performance.now()
  await first.close()
  const second = await coordinator.client(greedy.keys)
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => second.kinds()))
  const seconds = (performance.now() - emptied) / 1000
  const served = results.filter((result) => result.status === 'fulfilled').length
  // What one token a second refilled meanwhile, not a fresh burst of 10.
  assert.ok(served <= Math.min(10, 1 + Math.ceil(seconds)), `${served} served after ${seconds} s`)
})
