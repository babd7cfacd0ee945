// deno-lint-ignore-file no-console -- the tests report recovery times
import assert from 'node:assert/strict'
import type { ContainerReference } from '../../client/mod.ts'
import { NetworkError } from '../../core/mod.ts'
import { startNetwork, within } from '../integration/_process.ts'

interface Load {
  ok: number
  failed: Map<string, number>
  slowest: number
  stop(): Promise<void>
}

/** Keeps `workers` requests going over `refs`, each with a 3 s deadline, and counts outcomes. */
function load(refs: ContainerReference[], workers = 16): Load {
  const state: Load = { ok: 0, failed: new Map(), slowest: 0, stop: () => Promise.resolve() }
  let running = true
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const ref = refs[(w + i) % refs.length]
      const started = performance.now()
      try {
        await ref.request('echo', i, { timeoutMs: 3_000 })
        state.ok++
      } catch (error) {
        assert.ok(error instanceof NetworkError, `a request failed with ${String(error)}`)
        state.failed.set(error.name, (state.failed.get(error.name) ?? 0) + 1)
      }
      state.slowest = Math.max(state.slowest, performance.now() - started)
    }
  })
  state.stop = async () => {
    running = false
    await Promise.all(loops)
  }
  return state
}

Deno.test('an agent killed under load: every request succeeds or fails with a named error within its deadline, and the registry forgets the agent', async () => {
  await using net = await startNetwork({ agents: ['agent-1', 'agent-2'] })
  const { agents, client } = net
  const refs = await Promise.all(
    Array.from({ length: 10 }, (_, i) => client.get('echo', { uuid: `load-${i}` })),
  )
  const running = load(refs)
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const before = running.ok
  agents[0].kill('SIGKILL')
  const killedAt = performance.now()
  await new Promise((resolve) => setTimeout(resolve, 3_000))
  // aliveTimeout (2 s) + 1 s after the kill, no container of the dead agent is listed.
  const listed = await client.list('echo')
  assert.ok(listed.every((record) => record.agentId === 'agent-2'), JSON.stringify(listed))
  await new Promise((resolve) => setTimeout(resolve, 2_000))
  await running.stop()
  console.log(
    `agent killed under load: ${running.ok} ok (${before} before the kill), failed ${
      JSON.stringify(Object.fromEntries(running.failed))
    }, slowest ${running.slowest.toFixed(0)} ms, registry clean ${
      (performance.now() - killedAt).toFixed(0)
    } ms after`,
  )
  assert.ok(running.ok > before, 'requests kept succeeding after the kill')
  assert.ok(running.slowest < 3_000 + 1_000, `a request took ${running.slowest} ms`)
  for (const ref of refs) assert.deepEqual(await ref.request('echo', 'after'), 'after')
})

Deno.test('the coordinator killed and restarted under load: nothing starts twice, no reference is lost, and recovery is timed', async () => {
  await using net = await startNetwork({ agents: ['agent-1', 'agent-2'] })
  const { agents, client } = net
  const uuids = Array.from({ length: 10 }, (_, i) => `keep-${i}`)
  const refs = await Promise.all(uuids.map((uuid) => client.get('echo', { uuid })))
  const running = load(refs)
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  net.coordinator.kill('SIGKILL')
  await net.coordinator.done
  const restartedAt = performance.now()
  await net.restartCoordinator()
  const okAtRestart = running.ok
  await within(20_000, 'requests flow again', async () => {
    while (running.ok < okAtRestart + 100) await new Promise((resolve) => setTimeout(resolve, 20))
  })
  const recoveryMs = performance.now() - restartedAt
  await running.stop()
  console.log(
    `coordinator restarted under load: requests flow again ${recoveryMs.toFixed(0)} ms after ` +
      `the restart; failed ${JSON.stringify(Object.fromEntries(running.failed))}`,
  )
  const listed = (await client.list('echo')).map((record) => record.uuid).sort()
  assert.deepEqual(listed, [...uuids].sort())
  for (const uuid of uuids) {
    const starts = agents.reduce(
      (n, agent) => n + agent.count(new RegExp(`^started ${uuid}$`)),
      0,
    )
    assert.equal(starts, 1, `${uuid} started ${starts} times`)
  }
  // Every reference was re-acquired: releasing them all orphans every container.
  for (const ref of refs) await ref.close()
  await within(10_000, 'all released containers end', async () => {
    while ((await client.list('echo')).length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })
})
