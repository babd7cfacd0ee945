// Issue 15, defect 5: a container whose factory returns a bad endpoint is terminated,
// not leaked, like one returned with a wrong uuid.
import assert from 'node:assert/strict'
import {
  AgentImpl,
  type AgentUuid,
  type ContainerFactory,
  type ContainerKind,
  type ContainerStart,
  type ContainerUuid,
  InvalidArgumentError,
  ProtocolError,
} from '../../core/mod.ts'

function counting(result: (uuid: ContainerUuid) => object) {
  const terminated: string[] = []
  const factory: ContainerFactory = (options) =>
    Promise.resolve({
      ...result(options.uuid),
      container: {
        request: () => Promise.resolve(null),
        terminate: () => void terminated.push(options.uuid),
      },
    } as unknown as ContainerStart)
  return { terminated, factory }
}

const start = (uuid: string) => ({
  uuid: uuid as ContainerUuid,
  kind: 'leaky' as ContainerKind,
  labels: [],
})

Deno.test('5. a container whose factory returns a bad endpoint is terminated and not hosted', async () => {
  const { terminated, factory } = counting((uuid) => ({ uuid, endpoint: 'not an endpoint' }))
  const agent = new AgentImpl('agent-1' as AgentUuid, { leaky: factory })
  await assert.rejects(agent.get(start('c-1')), InvalidArgumentError)
  assert.deepEqual(terminated, ['c-1'])
  assert.deepEqual(agent.list(), [])
  await agent.close()
  assert.deepEqual(terminated, ['c-1'])
})

Deno.test('5. a container returned with a wrong uuid is terminated too, even when terminate returns nothing', async () => {
  const { terminated, factory } = counting(() => ({ uuid: 'other' }))
  const agent = new AgentImpl('agent-1' as AgentUuid, { leaky: factory })
  await assert.rejects(agent.get(start('c-2')), ProtocolError)
  assert.deepEqual(terminated, ['c-2'])
  await agent.close()
})
