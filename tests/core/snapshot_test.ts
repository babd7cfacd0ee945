import assert from 'node:assert/strict'
import { AgentImpl, type AgentUuid } from '../../core/mod.ts'
import { client1, client2, Fixture, kind, settle, test, TestContainer, uuid } from './_fixture.ts'

test('the snapshot shows containers in every state, with their references, and clients with what they hold', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['echo'])
  const { promise: gate, resolve: open } = Promise.withResolvers<void>()
  await f.agent('slow', ['slow'], { gate })
  await f.network.get(client1, kind('echo'), { uuid: uuid('held'), labels: ['t:1'] })
  await f.network.get(client1, kind('echo'), { uuid: uuid('held') })
  await f.network.get(client2, kind('echo'), { uuid: uuid('held') })
  await f.network.get(client2, kind('echo'), { uuid: uuid('dropped') })
  await f.network.release(client2, uuid('dropped'))
  const starting = f.network.get(client1, kind('slow'), { uuid: uuid('starting') })
  for (const id of ['ha-owner', 'ha-standby']) {
    const agent = new AgentImpl(id as AgentUuid, {})
    const options = { uuid: uuid('ha-1'), kind: kind('ha'), labels: [] }
    agent.declareStateless(options, new TestContainer(options, id as AgentUuid))
    await f.network.register(agent.registration(), agent)
  }

  const snapshot = f.network.snapshot()
  const containers = snapshot.containers.map((c) => [c.uuid, c.state, c.agentId, c.references])
  assert.deepEqual(containers.toSorted(), [
    ['dropped', 'unused', 'a1', 0],
    ['ha-1', 'live', 'ha-owner', 0],
    ['ha-1', 'standby', 'ha-standby', 0],
    ['held', 'live', 'a1', 3],
    ['starting', 'starting', 'slow', 0],
  ])
  assert.equal(snapshot.references, 3)
  const holds = Object.fromEntries(snapshot.clients.map((c) => [c.clientId, c.references]))
  assert.deepEqual(holds, {
    [client1]: [{ uuid: 'held', count: 2 }],
    [client2]: [{ uuid: 'held', count: 1 }],
  })
  assert.deepEqual(snapshot.agents.map((a) => a.agentId).toSorted(), [
    'a1',
    'ha-owner',
    'ha-standby',
    'slow',
  ])

  const counts = f.network.counts()
  assert.equal(counts.agents, 4)
  assert.equal(counts.clients, 2)
  assert.equal(counts.references, 3)
  assert.deepEqual(counts.containers.map((c) => [c.kind, c.state, c.count]).toSorted(), [
    ['echo', 'live', 1],
    ['echo', 'unused', 1],
    ['ha', 'live', 1],
    ['ha', 'standby', 1],
    ['slow', 'starting', 1],
  ])
  open()
  await starting
  await settle()
})

test('the reference total follows gets, releases, gone clients and removed containers', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['echo'])
  await f.getAll('echo', [[client1, 'x'], [client1, 'x'], [client2, 'x'], [client2, 'y']])
  assert.equal(f.network.counts().references, 4)
  await f.network.release(client1, uuid('x'))
  assert.equal(f.network.counts().references, 3)
  f.network.clientGone(client2)
  assert.equal(f.network.counts().references, 1)
  await f.network.unregister('a1' as AgentUuid)
  assert.equal(f.network.counts().references, 0)
  assert.deepEqual(f.network.snapshot().containers, [])
})
