// Single activation: a container is started again elsewhere only once its old copy
// is gone (terminated, or its agent silent past aliveTimeout).
import assert from 'node:assert/strict'
import { client1, Fixture, kind, test, uuid } from './_fixture.ts'

test("a silent agent's container is started elsewhere only after aliveTimeout", async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  await f.agent('a2', ['session'])
  await f.advance(2_500, ['a2', client1])
  const before = await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  assert.equal(before.agentId, 'a1')
  assert.equal(f.startsOf(uuid('s1')).length, 1)
  await f.advance(1_500, ['a2', client1])
  const after = await f.network.get(client1, kind('session'), { uuid: uuid('s1') })
  assert.equal(after.agentId, 'a2')
  assert.equal(f.startsOf(uuid('s1')).length, 2)
})
