import assert from 'node:assert/strict'
import type { AgentUuid, NetworkEvent } from '../../core/mod.ts'
import { client1, Fixture, kind, test, uuid } from './_fixture.ts'

test('changes reach every listener within one tick of the clock, in order', async () => {
  await using f = new Fixture()
  const seen: NetworkEvent[] = []
  f.network.subscribe((event) => {
    seen.push(event)
  })
  await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await f.network.get(client1, kind('session'), { uuid: uuid('s2') })
  await f.clock.waitTick(1)
  const changes = (events: NetworkEvent[]) =>
    events.flatMap((e) => [
      ...e.agents.map((a) => `${a.type} ${a.agent.agentId}`),
      ...e.containers.map((c) => `${c.type} ${c.container.uuid}`),
    ])
  assert.deepEqual(changes(seen), ['added a1', 'added s1', 'added s2'])
  assert.deepEqual(changes(f.events), changes(seen))
})

test('a batch keeps a removed followed by an added of the same uuid', async () => {
  await using f = new Fixture()
  const agent = await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await f.clock.waitTick(1)
  f.events.length = 0
  // In one turn: the agent unregisters (s1 removed) and registers again (s1 added).
  void f.network.unregister('a1' as AgentUuid)
  void f.network.register(agent.registration(), agent)
  await f.clock.waitTick(1)
  assert.equal(f.events.length, 1)
  assert.deepEqual(f.containerChanges(), ['removed s1@a1', 'added s1@a1'])
  assert.deepEqual(f.agentChanges(), ['removed a1', 'added a1'])
  assert.deepEqual(f.network.list().map((r) => r.uuid), ['s1'])
})

test('a listener that throws does not stop the others or the network', async () => {
  await using f = new Fixture()
  let later = 0
  f.network.subscribe(() => {
    throw new Error('listener failure')
  })
  f.network.subscribe(() => Promise.reject(new Error('async listener failure')))
  f.network.subscribe(() => {
    later++
  })
  await f.agent('a1', ['session'])
  await f.clock.waitTick(1)
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await f.clock.waitTick(1)
  assert.equal(later, 2)
  assert.equal(f.events.length, 2)
})

test('an unsubscribed listener gets nothing more', async () => {
  await using f = new Fixture()
  let count = 0
  const unsubscribe = f.network.subscribe(() => {
    count++
  })
  await f.agent('a1', ['session'])
  await f.clock.waitTick(1)
  unsubscribe()
  await f.network.get(client1, kind('session'))
  await f.clock.waitTick(1)
  assert.equal(count, 1)
})
