// deno-lint-ignore-file no-console -- the test reports the takeover time
import assert from 'node:assert/strict'
import { emitTo, startNetwork, within } from './_process.ts'

Deno.test('when the owner of a stateless container dies, a standby serves it within aliveTimeout + 1 s, and references and connections follow', async () => {
  await using net = await startNetwork({ agents: ['agent-1', 'agent-2'], mode: 'ha' })
  const { agents, client } = net
  const ref = await client.get('echo', { uuid: 'ha-1' })
  assert.equal(ref.record.stateless, true)
  const connection = await ref.connect()
  const events: unknown[] = []
  connection.on = (data) => {
    events.push(data)
  }
  assert.deepEqual(await ref.request('who'), { agentId: 'agent-1', uuid: 'ha-1' })

  const takenOver = Promise.withResolvers<number>()
  client.onUpdate((event) => {
    const added = event.containers.find((c) => c.type === 'added' && c.container.uuid === 'ha-1')
    if (added?.container.agentId === 'agent-2') takenOver.resolve(performance.now())
  })
  const killedAt = performance.now()
  agents[0].kill('SIGKILL')
  const seenAt = await within(10_000, 'takeover event', () => takenOver.promise)
  console.log(`standby took over ${(seenAt - killedAt).toFixed(0)} ms after the owner died`)
  assert.ok(seenAt - killedAt < 2_000 + 1_000 + 500, `took ${seenAt - killedAt} ms`)

  assert.deepEqual(await ref.request('who'), { agentId: 'agent-2', uuid: 'ha-1' })
  assert.deepEqual(await connection.request('who'), { agentId: 'agent-2', uuid: 'ha-1' })
  await emitTo(connection, events, 'from the standby', 'event from the standby')
  assert.deepEqual(events, ['from the standby'])
  await ref.close()
})
