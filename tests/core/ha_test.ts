import assert from 'node:assert/strict'
import { AgentImpl, type AgentUuid } from '../../core/mod.ts'
import { client1, Fixture, kind, settle, test, TestContainer, uuid } from './_fixture.ts'

/** Registers an agent that declares the stateless container `ha-1` of kind `ha`. */
async function haAgent(f: Fixture, id: string): Promise<TestContainer> {
  const agentId = id as AgentUuid
  const agent = new AgentImpl(agentId, {})
  const options = { uuid: uuid('ha-1'), kind: kind('ha'), labels: ['primary'] }
  const container = new TestContainer(options, agentId)
  agent.declareStateless(options, container)
  f.agents.set(agentId, agent)
  const result = await f.network.register(agent.registration(), agent)
  assert.deepEqual(result.standby, id === 'a1' ? [] : ['ha-1'])
  return container
}

test('the first agent to declare a stateless uuid owns it; later ones stand by and keep their instance', async () => {
  await using f = new Fixture()
  await haAgent(f, 'a1')
  const standby = await haAgent(f, 'a2')
  assert.deepEqual(f.network.list().map((r) => [r.uuid, r.agentId]), [['ha-1', 'a1']])
  await f.advance(20_000)
  assert.equal(standby.terminated, 0)
  assert.ok(f.agents.get('a2' as AgentUuid)!.getContainer(uuid('ha-1')))
  const answer = await f.network.request(uuid('ha-1'), 'who', null) as { agentId: string }
  assert.equal(answer.agentId, 'a1')
})

test('a stateless container is never terminated as unused', async () => {
  await using f = new Fixture()
  const owner = await haAgent(f, 'a1')
  await f.network.get(client1, kind('ha'), { uuid: uuid('ha-1') })
  await f.network.release(client1, uuid('ha-1'))
  await f.advance(30_000)
  assert.equal(owner.terminated, 0)
  assert.equal(f.network.list().length, 1)
})

test('when the owner dies, a standby serves the stateless container within one liveness check', async () => {
  await using f = new Fixture()
  await haAgent(f, 'a1')
  await haAgent(f, 'a2')
  await haAgent(f, 'a3')
  await f.network.get(client1, kind('ha'), { uuid: uuid('ha-1') })
  await settle()
  f.events.length = 0
  await f.advance(4_000, ['a2', 'a3', client1])
  assert.deepEqual(f.network.list().map((r) => [r.uuid, r.agentId]), [['ha-1', 'a2']])
  assert.deepEqual(f.containerChanges(), ['removed ha-1@a1', 'added ha-1@a2'])
  const answer = await f.network.request(uuid('ha-1'), 'who', null) as { agentId: string }
  assert.equal(answer.agentId, 'a2')
  // The client's reference followed the container: it is not orphaned.
  assert.equal(await f.network.release(client1, uuid('ha-1')), true)
})

test('when the owner unregisters, a standby takes over at once', async () => {
  await using f = new Fixture()
  await haAgent(f, 'a1')
  await haAgent(f, 'a2')
  await f.network.unregister('a1' as AgentUuid)
  assert.deepEqual(f.network.list().map((r) => r.agentId), ['a2'])
  const answer = await f.network.request(uuid('ha-1'), 'who', null) as { agentId: string }
  assert.equal(answer.agentId, 'a2')
})

test('a stateless container kind counts as offered by the agents that declare it', async () => {
  await using f = new Fixture()
  await haAgent(f, 'a1')
  await haAgent(f, 'a2')
  assert.deepEqual(f.network.kinds(), ['ha'])
  assert.deepEqual(f.network.agents().map((a) => a.kinds), [['ha'], ['ha']])
  const record = await f.network.get(client1, kind('ha'))
  assert.equal(record.uuid, 'ha-1')
})
