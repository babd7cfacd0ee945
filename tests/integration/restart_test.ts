// deno-lint-ignore-file no-console -- the test reports its recovery time
import assert from 'node:assert/strict'
import { startNetwork, within } from './_process.ts'

Deno.test('after a coordinator SIGKILL and restart on the same port, agents re-register, references come back, a request sent in the outage completes, and nothing starts twice', async () => {
  await using net = await startNetwork({ agents: ['agent-1'] })
  const { agents: [agent], client } = net
  await client.waitConnection(10_000)
  const refs = await Promise.all(
    ['r1', 'r2', 'r3'].map((uuid) => client.get('echo', { uuid, labels: ['restart'] })),
  )
  for (const ref of refs) assert.equal(await ref.request('echo', ref.uuid), ref.uuid)

  net.coordinator.kill('SIGKILL')
  await net.coordinator.done
  const inOutage = refs[0].request('echo', 'sent during the outage', { timeoutMs: 30_000 })
  const restartedAt = performance.now()
  await net.restartCoordinator()

  await within(20_000, 'recovery', async () => {
    assert.equal(await inOutage, 'sent during the outage')
    for (const ref of refs) assert.equal(await ref.request('echo', ref.uuid), ref.uuid)
  })
  const recoveryMs = performance.now() - restartedAt
  console.log(`recovered in ${recoveryMs.toFixed(0)} ms after the restart`)
  const listed = await client.list('echo')
  assert.deepEqual(listed.map((r) => r.uuid).sort(), ['r1', 'r2', 'r3'])
  assert.deepEqual((await client.agents()).map((a) => a.agentId), ['agent-1'])
  for (const uuid of ['r1', 'r2', 'r3']) {
    assert.equal(agent.count(new RegExp(`^started ${uuid}$`)), 1, `${uuid} started once`)
    assert.equal(agent.count(new RegExp(`^terminated ${uuid}$`)), 0, `${uuid} never terminated`)
  }
  // The references were re-acquired: releasing them orphans the containers.
  for (const ref of refs) await ref.close()
  await agent.waitFor(/^terminated r3$/, 10_000)
})
