// State hand-over: a moving container may finish background work (drain) and hand
// its state to its next copy; without it, or when it fails, the next copy starts fresh.
import assert from 'node:assert/strict'
import { AgentImpl, type AgentUuid, type ContainerFactory } from '../../core/mod.ts'
import { client1, Fixture, kind, test, uuid } from './_fixture.ts'

/** A factory whose containers log drain, handOver and terminate, and what they started from. */
function logging(log: string[], handOver?: () => Promise<unknown>): ContainerFactory {
  return (options) => {
    log.push(`start from ${JSON.stringify(options.handedOver)}`)
    return Promise.resolve({
      uuid: options.uuid,
      container: {
        request: () => Promise.resolve(null),
        drain: (signal: AbortSignal) => {
          log.push(`drain (aborted: ${signal.aborted})`)
          return Promise.resolve()
        },
        ...(handOver === undefined ? {} : {
          handOver: () => {
            log.push('handOver')
            return handOver()
          },
        }),
        terminate: () => {
          log.push('terminate')
          return Promise.resolve()
        },
      },
    })
  }
}

/** The log once `j1` moved from a1 to a2 (before the agents close). */
async function moveOnce(factory: ContainerFactory, log: string[]): Promise<string[]> {
  await using f = new Fixture()
  for (const id of ['a1', 'a2']) {
    const agent = new AgentImpl(id as AgentUuid, { job: factory })
    f.agents.set(id as AgentUuid, agent)
    await f.network.register(agent.registration(), agent)
    if (id === 'a1') await f.network.get(client1, kind('job'), { uuid: uuid('j1') })
  }
  assert.equal((await f.network.drain('a1' as AgentUuid, { deadlineMs: 1_000 })).moved, 1)
  return [...log]
}

test('a moving container drains, hands over, terminates, and its next copy starts from the state', async () => {
  const log: string[] = []
  assert.deepEqual(await moveOnce(logging(log, () => Promise.resolve({ cursor: 7 })), log), [
    'start from undefined',
    'drain (aborted: false)',
    'handOver',
    'terminate',
    'start from {"cursor":7}',
  ])
})

test('a container without handOver starts fresh on its new agent', async () => {
  const log: string[] = []
  assert.deepEqual((await moveOnce(logging(log), log)).at(-1), 'start from undefined')
})

test('a handOver that fails is logged and the container starts fresh', async () => {
  const log: string[] = []
  const moved = await moveOnce(logging(log, () => Promise.reject(new Error('disk gone'))), log)
  assert.deepEqual(moved.slice(-2), ['terminate', 'start from undefined'])
})
