import assert from 'node:assert/strict'
import { encode } from '../../rpc/codec.ts'
import { RpcClient } from '../../rpc/client.ts'
import { TickManagerImpl } from '../../core/mod.ts'
import { startNetwork, within } from '../integration/_process.ts'

Deno.test('a stalled agent (SIGSTOP past aliveTimeout) loses its containers to another agent and, once resumed, stops its stale copies: never two live copies after its first contact', async () => {
  await using net = await startNetwork({ agents: ['agent-1', 'agent-2'] })
  const { agents, client } = net
  // A stopped agent cannot act on the SIGTERM that stops it.
  using _resumed = { [Symbol.dispose]: () => agents[0].kill('SIGCONT') }
  const ref = await client.get('echo', { uuid: 'fenced' })
  const first = await ref.request('who') as { agentId: string }
  assert.equal(first.agentId, 'agent-1')
  const staleEndpoint = (ref.endpoint as { address: string }).address

  const removed = Promise.withResolvers<void>()
  client.onUpdate((event) => {
    if (event.containers.some((c) => c.type === 'removed' && c.container.uuid === 'fenced')) {
      removed.resolve()
    }
  })
  agents[0].kill('SIGSTOP')
  await within(10_000, 'the stalled agent declared dead', () => removed.promise)
  // The next use places the container again, on the live agent.
  const moved = await within(
    10_000,
    'request after the stall',
    () => ref.request('who') as Promise<{ agentId: string }>,
  )
  assert.equal(moved.agentId, 'agent-2')

  agents[0].kill('SIGCONT')
  // The resumed agent reconnects, re-registers, and is told to stop its stale copy.
  await within(
    15_000,
    'stale copy stopped',
    () => agents[0].waitFor(/^terminated fenced$/, 14_000),
  )
  assert.equal(agents[0].count(/^started fenced$/), 1)
  assert.equal(agents[1].count(/^started fenced$/), 1)

  // Ask both instances: only agent-2 serves it now.
  const clock = new TickManagerImpl(20)
  clock.start()
  const direct = new RpcClient(staleEndpoint, { clock, clientId: 'prober' })
  try {
    await direct.waitConnection(5_000)
    await assert.rejects(
      direct.request('container.request', encode('x'), {
        meta: { target: 'fenced', operation: 'who' },
      }),
      { name: 'ContainerNotFoundError', code: 'CONTAINER_NOT_FOUND', remote: true },
    )
  } finally {
    await direct.close()
    clock.stop()
  }
  assert.deepEqual(await ref.request('who'), { agentId: 'agent-2', uuid: 'fenced' })
  const listed = await client.list('echo')
  assert.deepEqual(listed.map((r) => [r.uuid, r.agentId]), [['fenced', 'agent-2']])
  assert.deepEqual((await client.agents()).map((a) => a.agentId).sort(), ['agent-1', 'agent-2'])
})
