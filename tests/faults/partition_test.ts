import assert from 'node:assert/strict'
import { createNetworkClient, type NetworkClient } from '../../client/mod.ts'
import { type Proc, startAgent, startCoordinator, within } from '../integration/_process.ts'

// The agent lives in a network namespace of its own, joined to this host by a veth
// pair on link-local addresses that exist only inside this test.
const hostAddress = '169.254.213.1'
const agentAddress = '169.254.213.2'

async function ip(...args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command('ip', { args, stdout: 'null', stderr: 'null' })
      .output()
    return success
  } catch {
    return false
  }
}

async function createNamespace(name: string, hostSide: string): Promise<boolean> {
  if (!await ip('netns', 'add', name)) return false
  const ok = await configureNamespace(name, hostSide)
  if (!ok) await removeNamespace(name, hostSide)
  return ok
}

async function configureNamespace(name: string, hostSide: string): Promise<boolean> {
  const steps = [
    ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name],
    ['addr', 'add', `${hostAddress}/30`, 'dev', hostSide],
    ['link', 'set', hostSide, 'up'],
    ['-n', name, 'addr', 'add', `${agentAddress}/30`, 'dev', 'eth0'],
    ['-n', name, 'link', 'set', 'eth0', 'up'],
    ['-n', name, 'link', 'set', 'lo', 'up'],
  ]
  for (const step of steps) {
    if (!await ip(...step)) return false
  }
  return true
}

/** Removes the veth pair first (deleting a namespace frees its links only later), then the namespace. */
async function removeNamespace(name: string, hostSide: string): Promise<void> {
  await ip('link', 'del', hostSide)
  await ip('netns', 'del', name)
}

const name = `huly-part-${Deno.pid}`
const hostSide = `hp${Deno.pid % 100000}`
const probe = `huly-probe-${Deno.pid}`
const canRun = Deno.build.os === 'linux' && await ip('netns', 'add', probe) &&
  await ip('netns', 'del', probe)

Deno.test({
  name:
    'a partitioned agent is declared dead and its container placed again; healed, it rejoins and its stale copy is stopped, with no duplicate',
  ignore: !canRun,
  async fn() {
    assert.ok(await createNamespace(name, hostSide), 'network namespace')
    let coordinator: Proc | undefined
    const agents: Proc[] = []
    let client: NetworkClient | undefined
    try {
      // A veth address that only this test's namespace reaches: plain text is fine here.
      const started = await startCoordinator(0, ['--host', hostAddress, '--insecure'])
      coordinator = started.proc
      const endpoint = `tcp://${hostAddress}:${started.port}`
      agents.push(
        await startAgent(endpoint, 'agent-far', 'direct', { name, listen: `${agentAddress}:0` }),
      )
      agents.push(await startAgent(endpoint, 'agent-near'))
      client = await createNetworkClient(endpoint, {
        timeouts: { aliveTimeoutMs: 2000, pingIntervalMs: 500 },
      })
      const ref = await client.get('echo', { uuid: 'across' })
      assert.deepEqual(await ref.request('who'), { agentId: 'agent-far', uuid: 'across' })

      const removed = Promise.withResolvers<void>()
      client.onUpdate((event) => {
        if (event.agents.some((a) => a.type === 'removed' && a.agent.agentId === 'agent-far')) {
          removed.resolve()
        }
      })
      assert.ok(await ip('link', 'set', hostSide, 'down'), 'cut the link')
      await within(10_000, 'the partitioned agent declared dead', () => removed.promise)
      assert.deepEqual(
        await within(10_000, 're-placement', () => ref.request('who')),
        { agentId: 'agent-near', uuid: 'across' },
      )

      assert.ok(await ip('link', 'set', hostSide, 'up'), 'heal the link')
      await within(20_000, 'the agent rejoins', async () => {
        for (;;) {
          const ids = (await client!.agents()).map((a) => a.agentId).sort()
          if (ids.length === 2) return assert.deepEqual(ids, ['agent-far', 'agent-near'])
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
      })
      await within(10_000, 'stale copy stopped', () => agents[0].waitFor(/^terminated across$/))
      assert.deepEqual(
        (await client.list('echo')).map((r) => [r.uuid, r.agentId]),
        [['across', 'agent-near']],
      )
      assert.deepEqual(await ref.request('who'), { agentId: 'agent-near', uuid: 'across' })
    } finally {
      await client?.close()
      await Promise.all(agents.map((agent) => agent.stop()))
      await coordinator?.stop()
      await removeNamespace(name, hostSide)
    }
  },
})
