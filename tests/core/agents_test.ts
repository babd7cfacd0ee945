import assert from 'node:assert/strict'
import {
  AgentImpl,
  AgentLostError,
  type AgentUuid,
  ContainerNotFoundError,
} from '../../core/mod.ts'
import { client1, Fixture, kind, settle, test, uuid } from './_fixture.ts'

test('an agent silent for longer than aliveTimeout is removed with all its containers in one event', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await f.agent('a2', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await f.network.get(client1, kind('session'), { uuid: uuid('s2') })
  await f.network.get(client1, kind('session'), { uuid: uuid('s3') })
  await settle()
  f.events.length = 0
  await f.advance(3_000, ['a2', client1])
  assert.equal(f.network.agents().length, 2)
  await f.advance(1_000, ['a2', client1])
  assert.deepEqual(f.network.agents().map((a) => a.agentId), ['a2'])
  assert.deepEqual(f.network.list().map((r) => r.uuid), ['s2'])
  assert.equal(f.events.length, 1)
  assert.deepEqual(f.agentChanges(), ['removed a1'])
  assert.deepEqual(f.containerChanges(), ['removed s1@a1', 'removed s3@a1'])
  await assert.rejects(f.network.request(uuid('s1'), 'op', null), ContainerNotFoundError)
})

test('an agent with no containers that dies is reported removed too', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await settle()
  f.events.length = 0
  await f.advance(4_000, [])
  assert.deepEqual(f.network.agents(), [])
  assert.deepEqual(f.agentChanges(), ['removed a1'])
  assert.deepEqual(f.network.kinds(), [])
})

test('a pending start on an agent that dies fails its waiting gets with AgentLostError', async () => {
  await using f = new Fixture()
  const gate = f.gate()
  await f.agent('a1', ['session'], { gate: gate.promise })
  const first = f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  const second = f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  const checks = [
    assert.rejects(first, AgentLostError),
    assert.rejects(second, AgentLostError),
  ]
  await f.advance(4_000, [client1])
  await Promise.all(checks)
  gate.resolve()
  await settle()
  assert.deepEqual(f.network.list(), [])
})

test('unregister removes the agent and its containers with the same events', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await settle()
  f.events.length = 0
  await f.network.unregister('a1' as AgentUuid)
  await settle()
  assert.deepEqual(f.network.agents(), [])
  assert.deepEqual(f.network.list(), [])
  assert.deepEqual(f.agentChanges(), ['removed a1'])
  assert.deepEqual(f.containerChanges(), ['removed s1@a1'])
})

test('re-registering an agent keeps the containers it still reports and drops the rest with events', async () => {
  await using f = new Fixture()
  const agent = await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('kept') })
  await f.network.get(client1, kind('session'), { uuid: uuid('lost') })
  await agent.terminate(uuid('lost'))
  await settle()
  f.events.length = 0
  await f.network.register(agent.registration(), agent)
  await settle()
  assert.deepEqual(f.network.list().map((r) => r.uuid), ['kept'])
  assert.deepEqual(f.containerChanges(), ['removed lost@a1'])
  assert.deepEqual(f.agentChanges(), ['updated a1'])
  assert.equal(f.network.agents()[0].containers, 1)
  assert.equal(f.started.length, 2)
})

test('after a network restart, re-registered containers are adopted and not started again', async () => {
  await using f = new Fixture()
  await using restarted = new Fixture()
  const agent = await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await restarted.network.register(agent.registration(), agent)
  const record = await restarted.network.get(client1, kind('session'), { uuid: uuid('s1') })
  assert.equal(record.agentId, 'a1')
  assert.equal(f.started.length + restarted.started.length, 1)
})

test('kinds() is a unique list; agents() reports kinds, endpoint and live container count', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session', 'query'], { endpoint: 'tcp://127.0.0.1:3738' })
  await f.agent('a2', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await f.network.get(client1, kind('query'), { uuid: uuid('q1') })
  assert.deepEqual(f.network.kinds().sort(), ['query', 'session'])
  assert.deepEqual(f.network.agents(), [
    {
      agentId: 'a1',
      kinds: ['session', 'query'],
      endpoint: 'tcp://127.0.0.1:3738',
      containers: 2,
    },
    { agentId: 'a2', kinds: ['session'], containers: 0 },
  ])
})

test('a container needs only request: it can be got, requested, connected to and terminated', async () => {
  await using f = new Fixture()
  const agent = new AgentImpl('minimal' as AgentUuid, {
    echo: (options) =>
      Promise.resolve({
        uuid: options.uuid,
        container: { request: (_op, data) => Promise.resolve(data) },
      }),
  })
  await f.network.register(agent.registration(), agent)
  const record = await f.network.get(client1, kind('echo'))
  assert.equal(await f.network.request(record.uuid, 'echo', 7), 7)
  await f.network.release(client1, record.uuid)
  await f.advance(6_000, ['minimal', client1])
  assert.deepEqual(f.network.list(), [])
  assert.deepEqual(agent.list(), [])
  await agent.close()
})
