import assert from 'node:assert/strict'
import type { NetworkClient } from '../../client/mod.ts'
import { AgentImpl, type AgentUuid } from '../../core/mod.ts'
import { EventTopic, NetworkOperation } from '../../internal.ts'
import { encode, type RpcClient } from '../../rpc/mod.ts'
import { echoFactory, peer, TestCoordinator, within } from './_fixture.ts'

const forbidden = { name: 'AuthorizationError', code: 'FORBIDDEN', remote: true }

function rpcOf(client: NetworkClient): RpcClient {
  // The client API cannot unregister or speak for another's agent; speak the protocol.
  return (client as unknown as { rpc: RpcClient }).rpc
}

for (const secure of [false, true]) {
  const mode = secure ? 'with keys' : 'without keys'
  Deno.test(`${mode}: a second connection can neither claim, unregister nor speak for a live agent`, async () => {
    const owner = peer('owner', 'agent')
    const other = peer('other', 'agent')
    const user = peer('user', 'client')
    await using coordinator = new TestCoordinator(secure ? [owner, other, user] : undefined)
    const keys = (who: typeof owner) => secure ? who.keys : undefined
    const first = await coordinator.client(keys(owner))
    await first.register(new AgentImpl('owned' as AgentUuid, { echo: echoFactory }))
    const second = await coordinator.client(keys(other))
    await assert.rejects(
      second.register(new AgentImpl('owned' as AgentUuid, { echo: echoFactory })),
      forbidden,
    )
    await assert.rejects(
      rpcOf(second).request(NetworkOperation.unregister, encode({ agentId: 'owned' })),
      forbidden,
    )
    // A container event for a client, sent by a connection that does not serve its agent.
    const client = await coordinator.client(keys(user))
    const ref = await client.get('echo', { uuid: 'e1' })
    const connection = await ref.connect()
    const received: unknown[] = []
    connection.on = (data) => void received.push(data)
    const rejected = coordinator.server.stats.rejected
    rpcOf(second).event(EventTopic.container, encode('forged'), {
      uuid: 'e1',
      clientId: client.clientId,
    })
    await within(
      5000,
      'the forged event is rejected',
      (async () => {
        while (coordinator.server.stats.rejected === rejected) {
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
      })(),
    )
    assert.deepEqual(received, [])
    assert.deepEqual((await first.agents()).map((record) => record.agentId), ['owned'])
    assert.equal(await ref.request('echo', 'still served'), 'still served')
  })
}
