import assert from 'node:assert/strict'
import type { ContainerKind, GetOptions } from '../../core/mod.ts'
import { client1, client2, Fixture, kind, settle, test, uuid } from './_fixture.ts'

test('references are counted per get: got twice and released once, a container stays; released twice, it is orphaned', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  assert.equal(await f.network.release(client1, uuid('s1')), true)
  await f.advance(10_000)
  assert.equal(f.network.list().length, 1)
  assert.equal(await f.network.release(client1, uuid('s1')), true)
  await f.advance(10_000)
  assert.equal(f.network.list().length, 0)
})

test('an orphaned container is terminated after unusedContainerTimeout, not before, once, with its agent told and an event', async () => {
  await using f = new Fixture()
  const agent = await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await f.network.release(client1, uuid('s1'))
  await f.advance(4_500)
  assert.equal(f.network.list().length, 1)
  assert.equal(f.started[0].terminated, 0)
  await f.advance(1_000)
  assert.equal(f.network.list().length, 0)
  assert.equal(f.started[0].terminated, 1)
  assert.equal(agent.getContainer(uuid('s1')), undefined)
  assert.deepEqual(f.containerChanges(), ['added s1@a1', 'removed s1@a1'])
  await f.advance(10_000)
  assert.equal(f.started[0].terminated, 1)
})

const reacquire: Array<[string, ContainerKind, GetOptions]> = [
  ['uuid', kind('session'), { uuid: uuid('s1') }],
  ['labels', kind('session'), { labels: ['ws:1'] }],
  ['kind', kind('session'), {}],
]
for (const [how, k, options] of reacquire) {
  test(`a get by ${how} that re-acquires an orphaned container cancels its termination`, async () => {
    await using f = new Fixture()
    await f.agent('a1', ['session'])
    await f.network.get(client1, kind('session'), { uuid: uuid('s1'), labels: ['ws:1'] })
    await f.network.release(client1, uuid('s1'))
    await f.advance(4_000)
    const again = await f.network.get(client2, k, options)
    assert.equal(again.uuid, 's1')
    await f.advance(20_000)
    assert.deepEqual(f.network.list().map((r) => r.uuid), ['s1'])
    assert.equal(f.started[0].terminated, 0)
    assert.equal(f.started.length, 1)
  })
}

test('releasing a container the client does not hold returns false and drops no other reference', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  assert.equal(await f.network.release(client2, uuid('s1')), false)
  assert.equal(await f.network.release(client2, uuid('nope')), false)
  await f.advance(10_000, ['a1', client1])
  assert.deepEqual(f.network.list().map((r) => r.uuid), ['s1'])
  assert.equal(await f.network.release(client1, uuid('s1')), true)
  assert.equal(await f.network.release(client1, uuid('s1')), false)
})

test('a silent client loses all its references, which then follow the orphan rule', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await f.getAll('session', [[client1, 'mine'], [client1, 'shared'], [client2, 'shared']])
  // client1 stops pinging; client2 keeps pinging.
  await f.advance(3_500, ['a1', client2])
  assert.equal(f.network.list().length, 2)
  await f.advance(5_500, ['a1', client2])
  assert.deepEqual(f.network.list().map((r) => r.uuid), ['shared'])
  await settle()
  assert.deepEqual(f.containerChanges().filter((c) => c.startsWith('removed')), [
    'removed mine@a1',
  ])
})

test('a client reported gone loses its references at once', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  f.network.clientGone(client1)
  f.network.clientGone(client1)
  assert.equal(await f.network.release(client1, uuid('s1')), false)
  await f.advance(5_500, ['a1'])
  assert.deepEqual(f.network.list(), [])
  assert.throws(() => f.network.clientGone(bad('')), { name: 'InvalidArgumentError' })
})

// deno-lint-ignore no-explicit-any -- passes a value the types forbid
const bad = (value: unknown): any => value
