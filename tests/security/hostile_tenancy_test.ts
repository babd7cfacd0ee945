// Break 6 of issue 14: with an access file, tenant 42 could get the uuid
// `workspace-7-inbox` first, and tenant 7's own get of it was then FORBIDDEN.
import assert from 'node:assert/strict'
import { echoFactory, peer, TestCoordinator } from './_fixture.ts'

const forbidden = { name: 'AuthorizationError', code: 'FORBIDDEN', remote: true }

Deno.test('a tenant cannot take a uuid outside its labels, so it cannot lock another tenant out of its own', async () => {
  const agent = peer('worker', 'agent', { kinds: ['echo'] })
  const ws42 = peer('frontend-42', 'client', { labels: ['workspace:42'] })
  const ws7 = peer('frontend-7', 'client', { labels: ['workspace:7'] })
  await using coordinator = new TestCoordinator([agent, ws42, ws7])
  const host = await coordinator.client(agent.keys)
  await host.serveAgent('127.0.0.1:0', { echo: echoFactory }, { agentId: 'worker-1' })
  const squatter = await coordinator.client(ws42.keys)
  const owner = await coordinator.client(ws7.keys)

  for (const uuid of ['workspace-7-inbox', 'workspace:7/inbox']) {
    await assert.rejects(squatter.get('echo', { uuid, labels: ['workspace:42'] }), forbidden)
  }
  const inbox = await owner.get('echo', { uuid: 'workspace:7/inbox', labels: ['workspace:7'] })
  assert.equal(await inbox.request('echo', 'mine'), 'mine')
  const own = await squatter.get('echo', { uuid: 'workspace:42/inbox', labels: ['workspace:42'] })
  assert.equal(await own.request('echo', 'ours'), 'ours')
  assert.equal(coordinator.server.metrics.registry.render().includes('limit="uuid-scope"} 2'), true)
})
