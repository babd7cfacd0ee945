import assert from 'node:assert/strict'
import { AgentImpl, type AgentUuid } from '../../core/mod.ts'
import { client1, Fixture, kind, settle, test, uuid } from './_fixture.ts'

test('during recovery a get waits for the agent to re-register and finds its container, not a second copy', async () => {
  await using before = new Fixture()
  await using after = new Fixture()
  const agent = await before.agent('a1', ['session'])
  await before.network.get(client1, kind('session'), { uuid: uuid('s1') })
  // A new coordinator: one agent is back already, the one hosting s1 is not yet.
  await after.agent('a2', ['session'])
  after.network.beginRecovery(3000)
  let settled = false
  const get = after.network.get(client1, kind('session'), { uuid: uuid('s1') })
  get.then(() => settled = true, () => settled = true)
  await settle()
  assert.equal(settled, false)
  await after.network.register(agent.registration(), agent)
  assert.equal((await get).agentId, 'a1')
  assert.equal(before.started.length + after.started.length, 1)
})

test('during recovery a get of a container nobody reports starts it once recovery ends', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['session'])
  f.network.beginRecovery(2000)
  assert.equal(f.network.recovering, true)
  let done = false
  const get = f.network.get(client1, kind('session'), { uuid: uuid('new') }).then(() => done = true)
  await f.advance(1_500)
  assert.equal(done, false)
  await f.advance(1_000)
  await get
  assert.equal(f.network.recovering, false)
  assert.equal(f.started.length, 1)
})

test('after recovery gets start containers at once again', async () => {
  await using f = new Fixture()
  const agent = new AgentImpl('a1' as AgentUuid, {})
  await f.network.register(agent.registration(), agent)
  f.network.beginRecovery(1000)
  await f.advance(1_500)
  await f.agent('a2', ['session'])
  await f.network.get(client1, kind('session'))
  assert.equal(f.started.length, 1)
  assert.throws(() => f.network.beginRecovery(Number.NaN), { name: 'InvalidArgumentError' })
})

const timeouts = { pingIntervalMs: 500, aliveTimeoutMs: 2000, unusedContainerTimeoutMs: 1000 }

/**
 * s1 held by client1 on a coordinator that restarts (`before`, then `after`): its agent
 * is back at once, the client only at its alive timeout (it missed the bye), well past
 * the unused timeout. Resolves with the agent.
 */
async function restartWhileClientAway(before: Fixture, after: Fixture): Promise<AgentImpl> {
  const agent = await before.agent('a1', ['session'])
  await before.network.get(client1, kind('session'), { uuid: uuid('s1') })
  after.network.beginRecovery()
  await after.network.register(agent.registration(), agent)
  after.agents.set(agent.uuid, agent)
  await after.advance(3_500, [agent.uuid])
  return agent
}

test('containers an agent re-registers after a restart outlast the unused timeout until their clients are back', async () => {
  await using before = new Fixture({ timeouts })
  await using after = new Fixture({ timeouts })
  const agent = await restartWhileClientAway(before, after)
  assert.ok(agent.getContainer(uuid('s1')), 's1 was terminated before its client came back')
  const record = await after.network.get(client1, kind('session'), { uuid: uuid('s1') })
  assert.equal(record.agentId, 'a1')
  assert.equal(before.started.length + after.started.length, 1)
  // Nobody holds it any more: it goes after the unused timeout, as usual.
  await after.network.release(client1, uuid('s1'))
  await after.advance(1_500, [agent.uuid])
  assert.equal(agent.getContainer(uuid('s1')), undefined)
})

test("a container nobody takes back after a restart goes once recovery and the clients' alive timeout have passed", async () => {
  await using before = new Fixture({ timeouts })
  await using after = new Fixture({ timeouts })
  const agent = await restartWhileClientAway(before, after)
  assert.ok(agent.getContainer(uuid('s1')))
  await after.advance(1_000, [agent.uuid])
  assert.equal(agent.getContainer(uuid('s1')), undefined)
  assert.equal(after.network.list().length, 0)
})
