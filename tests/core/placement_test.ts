import assert from 'node:assert/strict'
import { NoAgentError } from '../../core/mod.ts'
import { client1, client2, Fixture, kind, settle, test, uuid } from './_fixture.ts'

test('get by uuid starts the container once on an agent of its kind', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await f.agent('a2', ['query'])
  const record = await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  assert.equal(record.uuid, 's1')
  assert.equal(record.agentId, 'a1')
  assert.equal(record.kind, 'session')
  assert.equal(f.startsOf(uuid('s1')).length, 1)
})

test('a second get of the same uuid returns the same container, whatever kind it asks, without a factory call', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session', 'query'])
  const first = await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  const second = await f.network.get(client2, kind('query'), { uuid: uuid('s1') })
  assert.deepEqual(second, first)
  assert.equal(f.started.length, 1)
})

test('N concurrent gets of one uuid call the factory exactly once', async () => {
  await using f = new Fixture()
  const gate = f.gate()
  await f.agent('a1', ['session'], { gate: gate.promise })
  const gets = Array.from(
    { length: 20 },
    (_, i) => f.network.get(i % 2 ? client1 : client2, kind('session'), { uuid: uuid('s1') }),
  )
  gate.resolve()
  const records = await Promise.all(gets)
  assert.equal(f.started.length, 1)
  assert.ok(records.every((r) => r.uuid === 's1'))
})

test('concurrent gets of different uuids of one kind start different containers', async () => {
  await using f = new Fixture()
  const gate = f.gate()
  await f.agent('a1', ['session'], { gate: gate.promise })
  const gets = ['x', 'y', 'z'].map((id) =>
    f.network.get(client1, kind('session'), { uuid: uuid(id) })
  )
  gate.resolve()
  const records = await Promise.all(gets)
  assert.deepEqual(records.map((r) => r.uuid), ['x', 'y', 'z'])
  assert.deepEqual(f.started.map((c) => c.options.uuid).sort(), ['x', 'y', 'z'])
  assert.equal(f.network.list(kind('session')).length, 3)
})

test('get by labels reuses a live container of the kind whose labels include all requested ones, on any agent', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await f.agent('a2', ['session'])
  await f.network.get(client1, kind('session'), { labels: ['ws:1'] })
  const second = await f.network.get(client1, kind('session'), { labels: ['ws:2', 'eu'] })
  assert.equal(second.agentId, 'a2')
  const reused = await f.network.get(client2, kind('session'), { labels: ['eu'] })
  assert.equal(reused.uuid, second.uuid)
  const both = await f.network.get(client2, kind('session'), { labels: ['eu', 'ws:2'] })
  assert.equal(both.uuid, second.uuid)
  assert.equal(f.started.length, 2)
})

test('get by labels starts a container carrying the labels when none matches', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session', 'query'])
  await f.network.get(client1, kind('query'), { labels: ['ws:1'] })
  await f.network.get(client1, kind('session'), { labels: ['ws:2'] })
  const record = await f.network.get(client1, kind('session'), { labels: ['ws:1'] })
  assert.deepEqual(record.labels, ['ws:1'])
  assert.equal(record.kind, 'session')
  assert.equal(f.started.length, 3)
  assert.deepEqual(f.started[2].options.labels, ['ws:1'])
})

test('get by kind alone reuses a live container of that kind, else starts one', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session', 'query'])
  const first = await f.network.get(client1, kind('session'))
  const again = await f.network.get(client2, kind('session'))
  assert.equal(again.uuid, first.uuid)
  const other = await f.network.get(client1, kind('query'))
  assert.notEqual(other.uuid, first.uuid)
  assert.equal(f.started.length, 2)
  assert.deepEqual(f.network.list(kind('session')).map((r) => r.uuid), [first.uuid])
})

test('new containers are spread round-robin over the agents of a kind, per kind, from the first registered', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session', 'query'])
  await f.agent('a2', ['session'])
  await f.agent('a3', ['session', 'query'])
  const sessions = []
  for (const id of ['s1', 's2', 's3', 's4']) {
    sessions.push((await f.network.get(client1, kind('session'), { uuid: uuid(id) })).agentId)
  }
  assert.deepEqual(sessions, ['a1', 'a2', 'a3', 'a1'])
  const queries = []
  for (const id of ['q1', 'q2', 'q3']) {
    queries.push((await f.network.get(client1, kind('query'), { uuid: uuid(id) })).agentId)
  }
  assert.deepEqual(queries, ['a1', 'a3', 'a1'])
})

test('a get for a kind no agent offers fails at once with NoAgentError', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await assert.rejects(f.network.get(client1, kind('transactor')), NoAgentError)
  await assert.rejects(
    f.network.get(client1, kind('transactor'), { uuid: uuid('t1') }),
    NoAgentError,
  )
  assert.equal(f.network.list().length, 0)
})

test('a factory that throws fails that get with its error, and the next get calls the factory again', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'], { failures: 1 })
  await assert.rejects(
    f.network.get(client1, kind('session'), { uuid: uuid('s1') }),
    /factory failure on a1/,
  )
  assert.equal(f.network.list().length, 0)
  const record = await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  assert.equal(record.uuid, 's1')
  assert.equal(f.started.length, 1)
})

test('records and events carry the container real endpoint, never a placeholder', async () => {
  await using f = new Fixture()
  await f.agent('routed', ['r'], { endpoint: 'tcp://127.0.0.1:3738' })
  await f.agent('direct', ['d'], { direct: true })
  await f.agent('plain', ['p'])
  const routed = await f.network.get(client1, kind('r'))
  const direct = await f.network.get(client1, kind('d'))
  const plain = await f.network.get(client1, kind('p'))
  assert.deepEqual(routed.endpoint, {
    kind: 'routed',
    address: 'tcp://127.0.0.1:3738',
    agentId: 'routed',
  })
  assert.deepEqual(direct.endpoint, { kind: 'direct', address: 'tcp://127.0.0.1:42' })
  assert.deepEqual(plain.endpoint, { kind: 'network' })
  await settle()
  const added = f.events.flatMap((e) => e.containers).filter((c) => c.type === 'added')
  assert.deepEqual(
    added.map((c) => c.container.endpoint),
    [routed.endpoint, direct.endpoint, plain.endpoint],
  )
  assert.deepEqual(
    f.network.list().map((r) => r.endpoint),
    added.map((c) => c.container.endpoint),
  )
})
