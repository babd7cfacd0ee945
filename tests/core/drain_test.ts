// Draining an agent: its containers move to other agents of their kind, one live
// copy at a time, with requests held meanwhile and state handed over.
import assert from 'node:assert/strict'
import {
  AgentImpl,
  AgentNotFoundError,
  type AgentUuid,
  type Container,
  type ContainerFactory,
  InvalidArgumentError,
  LimitExceededError,
  type MoveEvent,
  NoAgentError,
  TimeoutError,
} from '../../core/mod.ts'
import { client1, Fixture, kind, settle, test, uuid } from './_fixture.ts'

interface Behaviour {
  /** terminate() never settles. */
  hangTerminate?: boolean
  /** Requests with operation "slow" wait for this. */
  slow?: Promise<void>
}

/** A counter whose copies log their life to `log`; it hands its value over. */
function counters(agentId: string, log: string[], behaviour: Behaviour = {}): ContainerFactory {
  return (options) => {
    let value = (options.handedOver as number | undefined) ?? 0
    log.push(`start ${options.uuid}@${agentId} from ${value}`)
    const container: Container = {
      request: async (operation) => {
        if (operation === 'slow') await behaviour.slow
        return { agentId, value: ++value }
      },
      handOver: () => Promise.resolve(value),
      terminate: () => {
        log.push(`terminate ${options.uuid}@${agentId}`)
        return behaviour.hangTerminate ? new Promise(() => {}) : Promise.resolve()
      },
    }
    return Promise.resolve({ uuid: options.uuid, container })
  }
}

async function addAgent(f: Fixture, id: string, log: string[], b: Behaviour = {}) {
  const agent = new AgentImpl(id as AgentUuid, { counter: counters(id, log, b) })
  f.agents.set(id as AgentUuid, agent)
  await f.network.register(agent.registration(), agent)
  return agent
}

/** a1 with counter c1, got by client1; resolves with the log of the counters. */
async function c1OnA1(f: Fixture, b: Behaviour = {}): Promise<string[]> {
  const log: string[] = []
  await addAgent(f, 'a1', log, b)
  await f.network.get(client1, kind('counter'), { uuid: uuid('c1') })
  return log
}

/**
 * c1 on a1 answering a slow request, a2 ready, and a1 draining: the move waits for
 * the slow request until `finish()`.
 */
async function moveInProgress(f: Fixture, log: string[]) {
  const slow = Promise.withResolvers<void>()
  await addAgent(f, 'a1', log, { slow: slow.promise })
  await f.network.get(client1, kind('counter'), { uuid: uuid('c1') })
  await addAgent(f, 'a2', log)
  const inFlight = f.network.request(uuid('c1'), 'slow', null)
  const draining = f.network.drain('a1' as AgentUuid, { deadlineMs: 10_000 })
  await settle()
  return {
    draining,
    finish: async () => {
      slow.resolve()
      return await inFlight
    },
  }
}

test('a drained container starts on another agent only after its old copy terminated, with its state', async () => {
  await using f = new Fixture()
  const log: string[] = []
  await addAgent(f, 'a1', log)
  await f.network.get(client1, kind('counter'), { uuid: uuid('c1'), extra: { x: 1 } })
  await f.network.request(uuid('c1'), 'increment', null)
  await f.network.request(uuid('c1'), 'increment', null)
  await addAgent(f, 'a2', log)
  const result = await f.network.drain('a1' as AgentUuid, { deadlineMs: 5_000 })
  assert.equal(result.moved, 1)
  assert.equal(result.complete, true)
  assert.deepEqual(log, ['start c1@a1 from 0', 'terminate c1@a1', 'start c1@a2 from 2'])
  const [record] = f.network.list()
  assert.equal(record.agentId, 'a2')
  assert.deepEqual(record.extra, { x: 1 })
  assert.deepEqual(await f.network.request(uuid('c1'), 'increment', null), {
    agentId: 'a2',
    value: 3,
  })
  await settle()
  assert.ok(f.containerChanges().includes('updated c1@a2'))
  assert.ok(f.agentChanges().includes('updated a1'))
  assert.equal(f.network.agents().find((a) => a.agentId === 'a1')?.draining, true)
})

test('nothing new is placed on a draining agent', async () => {
  await using f = new Fixture()
  const log: string[] = []
  await addAgent(f, 'a1', log)
  await f.network.drain('a1' as AgentUuid, { deadlineMs: 1_000 })
  await assert.rejects(f.network.get(client1, kind('counter')), NoAgentError)
  await addAgent(f, 'a2', log)
  for (let i = 0; i < 3; i++) {
    const record = await f.network.get(client1, kind('counter'), { uuid: uuid(`n${i}`) })
    assert.equal(record.agentId, 'a2')
  }
})

test('requests for a moving container are held and go to the new copy in order', async () => {
  await using f = new Fixture()
  const log: string[] = []
  const move = await moveInProgress(f, log)
  const held = [1, 2, 3].map(() => f.network.request(uuid('c1'), 'increment', null))
  await settle()
  assert.deepEqual(log, ['start c1@a1 from 0'], 'the old copy waits for its request in flight')
  assert.deepEqual(await move.finish(), { agentId: 'a1', value: 1 })
  assert.deepEqual(await Promise.all(held), [
    { agentId: 'a2', value: 2 },
    { agentId: 'a2', value: 3 },
    { agentId: 'a2', value: 4 },
  ])
  assert.equal((await move.draining).moved, 1)
})

test('a terminate that hangs is cut short at the drain deadline and the move goes on', async () => {
  await using f = new Fixture()
  const log = await c1OnA1(f, { hangTerminate: true })
  await addAgent(f, 'a2', log)
  const draining = f.network.drain('a1' as AgentUuid, { deadlineMs: 2_000 })
  await f.advance(2_000)
  const result = await draining
  assert.equal(result.moved, 1)
  assert.deepEqual(log, ['start c1@a1 from 0', 'terminate c1@a1', 'start c1@a2 from 0'])
})

test('a drain with no other agent of the kind ends at its deadline and says why', async () => {
  await using f = new Fixture()
  await c1OnA1(f)
  const draining = f.network.drain('a1' as AgentUuid, { deadlineMs: 3_000 })
  await f.advance(2_500)
  assert.equal(f.network.list()[0].agentId, 'a1', 'it still serves meanwhile')
  await f.advance(1_000)
  const result = await draining
  assert.equal(result.complete, false)
  assert.equal(result.left, 1)
  assert.match(result.reason ?? '', /no other agent offers kind "counter"/)
  assert.equal(result.durationMs, 3_000)
})

test('a drain that waits for another agent moves to it as soon as it registers', async () => {
  await using f = new Fixture()
  const log = await c1OnA1(f)
  const draining = f.network.drain('a1' as AgentUuid, { deadlineMs: 10_000 })
  await f.advance(1_000)
  await addAgent(f, 'a2', log)
  const result = await draining
  assert.equal(result.moved, 1)
  assert.equal(f.network.list()[0].agentId, 'a2')
})

test('a request held past its own deadline fails with TimeoutError', async () => {
  await using f = new Fixture({ timeouts: { requestTimeoutMs: 1000 } })
  const move = await moveInProgress(f, [])
  const failed = assert.rejects(f.network.request(uuid('c1'), 'increment', null), TimeoutError)
  await f.advance(1_500)
  await failed
  await move.finish()
  assert.equal((await move.draining).moved, 1)
})

test('requests past the hold limit are refused at once with LimitExceededError', async () => {
  await using f = new Fixture({ heldRequests: { count: 2, bytes: 1_000_000 } })
  const held: string[] = []
  f.network.observeMoves({ held: (outcome) => held.push(outcome) })
  const move = await moveInProgress(f, [])
  const first = [1, 2].map(() => f.network.request(uuid('c1'), 'increment', null))
  await assert.rejects(f.network.request(uuid('c1'), 'increment', null), LimitExceededError)
  await move.finish()
  await Promise.all(first)
  await move.draining
  assert.deepEqual(held.sort(), ['refused', 'released', 'released'])
})

test('a drained stateless container fails over to its standby and moves are observed', async () => {
  await using f = new Fixture()
  const moves: MoveEvent[] = []
  f.network.observeMoves({ moved: (event) => moves.push(event) })
  const options = { uuid: uuid('ha'), kind: kind('ha'), labels: [] }
  for (const id of ['a1', 'a2']) {
    const agent = new AgentImpl(id as AgentUuid, {})
    agent.declareStateless(options, { request: () => Promise.resolve(id) })
    f.agents.set(id as AgentUuid, agent)
    await f.network.register(agent.registration(), agent)
  }
  const result = await f.network.drain('a1' as AgentUuid, { deadlineMs: 1_000 })
  assert.equal(result.failedOver, 1)
  assert.equal(await f.network.request(uuid('ha'), 'who', null), 'a2')
  assert.deepEqual(moves.map((m) => `${m.outcome} ${m.from}->${m.to}`), ['failed-over a1->a2'])
})

test('a container whose start was under way when its agent began to drain is moved too', async () => {
  await using f = new Fixture()
  const gate = Promise.withResolvers<void>()
  const agent = new AgentImpl('a1' as AgentUuid, {
    counter: async (options) => {
      await gate.promise
      return { uuid: options.uuid, container: { request: () => Promise.resolve('a1') } }
    },
  })
  f.agents.set('a1' as AgentUuid, agent)
  await f.network.register(agent.registration(), agent)
  const starting = f.network.get(client1, kind('counter'), { uuid: uuid('late') })
  await addAgent(f, 'a2', [])
  const draining = f.network.drain('a1' as AgentUuid, { deadlineMs: 5_000 })
  await settle()
  gate.resolve()
  assert.equal((await starting).agentId, 'a1')
  assert.equal((await draining).moved, 1)
  assert.equal(f.network.list()[0].agentId, 'a2')
})

test('a drain deadline past an hour, or not a positive number, is refused', async () => {
  await using f = new Fixture()
  await addAgent(f, 'a1', [])
  for (const deadlineMs of [3_600_001, 0, -1, Number.NaN, '5' as unknown as number]) {
    await assert.rejects(
      f.network.drain('a1' as AgentUuid, { deadlineMs }),
      InvalidArgumentError,
    )
  }
  await assert.rejects(f.network.drain('nobody' as AgentUuid), AgentNotFoundError)
})
