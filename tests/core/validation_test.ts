import { requireRevoked } from '../../internal.ts'
import assert from 'node:assert/strict'
import {
  AgentImpl,
  type AgentUuid,
  type ClientUuid,
  type ContainerKind,
  type ContainerUuid,
  InvalidArgumentError,
  ManualTickManager,
  NetworkImpl,
} from '../../core/mod.ts'
import { client1, Fixture, kind, test, uuid } from './_fixture.ts'

// deno-lint-ignore no-explicit-any -- the point is to pass values the types forbid
const bad = (value: unknown): any => value

test('get rejects malformed arguments with InvalidArgumentError and changes nothing', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  const before = JSON.stringify([f.network.list(), f.network.agents()])
  const calls: Array<() => Promise<unknown>> = [
    () => f.network.get(client1, bad('')),
    () => f.network.get(client1, bad(undefined)),
    () => f.network.get(bad(''), kind('session')),
    () => f.network.get(bad(42), kind('session')),
    () => f.network.get(client1, kind('session'), { uuid: bad(7) }),
    () => f.network.get(client1, kind('session'), { uuid: bad('') }),
    () => f.network.get(client1, kind('session'), { labels: bad('ws:1') }),
    () => f.network.get(client1, kind('session'), { labels: bad([1, 2]) }),
    () => f.network.get(client1, kind('session'), { labels: bad(['']) }),
    () => f.network.get(client1, kind('session'), { extra: bad('x') }),
    () => f.network.get(client1, kind('session'), bad(null)),
    () => f.network.get(client1, bad('x'.repeat(1000))),
  ]
  for (const call of calls) await assert.rejects(call(), InvalidArgumentError)
  assert.equal(JSON.stringify([f.network.list(), f.network.agents()]), before)
  assert.equal(f.started.length, 0)
})

test('release, request, ping, list, unregister and subscribe reject malformed arguments', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await assert.rejects(
    async () => await f.network.release(bad(null), uuid('s1')),
    InvalidArgumentError,
  )
  await assert.rejects(async () => await f.network.release(client1, bad(5)), InvalidArgumentError)
  await assert.rejects(
    async () => await f.network.request(bad(''), 'op', 1),
    InvalidArgumentError,
  )
  await assert.rejects(
    async () => await f.network.request(uuid('s1'), bad(3), 1),
    InvalidArgumentError,
  )
  await assert.rejects(async () => await f.network.unregister(bad({})), InvalidArgumentError)
  assert.throws(() => f.network.ping(bad(undefined)), InvalidArgumentError)
  assert.throws(() => f.network.list(bad(12)), InvalidArgumentError)
  assert.throws(() => f.network.subscribe(bad('listener')), InvalidArgumentError)
  assert.deepEqual(f.network.list().map((r) => r.uuid), ['s1'])
  assert.equal(await f.network.release(client1, uuid('s1')), true)
})

test('register rejects malformed registrations and agents, and changes nothing', async () => {
  await using f = new Fixture()
  const agent = new AgentImpl('a1' as AgentUuid, {})
  const good = agent.registration()
  const registrations = [
    bad(null),
    { ...good, agentId: bad('') },
    { ...good, kinds: bad('session') },
    { ...good, kinds: bad([3]) },
    { ...good, endpoint: bad(3) },
    { ...good, containers: bad({}) },
    { ...good, containers: [bad({ uuid: 'c1', kind: 'k', labels: [], endpoint: 'tcp://x' })] },
    {
      ...good,
      containers: [bad({ uuid: 'c1', kind: '', labels: [], endpoint: { kind: 'network' } })],
    },
  ]
  for (const registration of registrations) {
    await assert.rejects(
      async () => await f.network.register(registration, agent),
      InvalidArgumentError,
    )
  }
  await assert.rejects(async () => await f.network.register(good, bad({})), InvalidArgumentError)
  assert.deepEqual(f.network.agents(), [])
  assert.deepEqual(f.events, [])
})

test('NetworkImpl and AgentImpl reject NaN or negative timeouts and malformed factories', async () => {
  const clock = new ManualTickManager()
  for (const value of [NaN, -1, 0, Infinity, '3']) {
    assert.throws(
      () => new NetworkImpl(clock, { timeouts: { aliveTimeoutMs: bad(value) } }),
      InvalidArgumentError,
    )
  }
  assert.throws(() => new AgentImpl(bad(''), {}), InvalidArgumentError)
  assert.throws(() => new AgentImpl('a' as AgentUuid, { k: bad('factory') }), InvalidArgumentError)
  assert.throws(
    () => new AgentImpl('a' as AgentUuid, {}, { endpoint: bad(1) }),
    InvalidArgumentError,
  )
  const agent = new AgentImpl('a' as AgentUuid, {})
  await assert.rejects(
    agent.get({ uuid: bad(1), kind: 'k' as ContainerKind, labels: [] }),
    InvalidArgumentError,
  )
  assert.throws(
    () =>
      agent.declareStateless(
        { uuid: 'x' as ContainerUuid, kind: 'k' as ContainerKind, labels: [] },
        bad({}),
      ),
    InvalidArgumentError,
  )
  assert.deepEqual(agent.list(), [])
  await agent.close()
})

test('a closed network refuses calls with ClosedError', async () => {
  const f = new Fixture()
  await f.close()
  await assert.rejects(
    async () => await f.network.get('c' as ClientUuid, kind('session')),
    { name: 'ClosedError' },
  )
  assert.throws(() => f.network.list(), { name: 'ClosedError' })
})

test('a timing given in seconds under its old name is refused with its new name', () => {
  const clock = new ManualTickManager()
  assert.throws(
    () => new NetworkImpl(clock, { timeouts: { aliveTimeout: 3 } as never }),
    {
      name: 'InvalidArgumentError',
      message: /timeouts\.aliveTimeout \(seconds\) is now timeouts\.aliveTimeoutMs/,
    },
  )
  assert.throws(
    () => new NetworkImpl(clock, { timeouts: { tickRate: 3 } as never }),
    { name: 'InvalidArgumentError', message: /timeouts\.tickRate is not a timing/ },
  )
})

test('a revoked event is checked before its keys are used', () => {
  assert.deepEqual(requireRevoked({ publicKeys: ['k1'] }), { publicKeys: ['k1'] })
  for (const body of [null, 'keys', { publicKeys: 'k1' }, { publicKeys: [1] }, {}]) {
    assert.throws(() => requireRevoked(body), InvalidArgumentError, JSON.stringify(body))
  }
})
