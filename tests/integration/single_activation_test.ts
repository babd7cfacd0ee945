// Single activation over the wire: a served agent that closes terminates its
// containers before the coordinator forgets it.
import assert from 'node:assert/strict'
import type { AgentUuid, ContainerFactory } from '../../core/mod.ts'
import { TestCoordinator, within } from '../security/_fixture.ts'

Deno.test('a closed served agent terminates its containers before it is unregistered', async () => {
  await using network = new TestCoordinator(undefined)
  const registeredAtTerminate: boolean[] = []
  const probe: ContainerFactory = (options) =>
    Promise.resolve({
      uuid: options.uuid,
      container: {
        request: () => Promise.resolve(null),
        terminate: () => {
          registeredAtTerminate.push(
            network.network.agents().some((agent) => agent.agentId === 'closing'),
          )
          return Promise.resolve()
        },
      },
    })
  const client = await network.client()
  const served = await client.serveAgent('127.0.0.1:0', { probe }, { agentId: 'closing' })
  const user = await network.client()
  await user.get('probe', { uuid: 'p1' })
  await within(5_000, 'close', served.close())
  assert.deepEqual(registeredAtTerminate, [true])
  assert.equal(network.network.agents().some((a) => a.agentId === ('closing' as AgentUuid)), false)
})
