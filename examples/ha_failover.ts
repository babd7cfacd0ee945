// deno-lint-ignore-file no-console -- an example shows its results
/**
 * High availability: two agent processes declare the same "stateless" container
 * `leader-1`. The first serves it; when its process dies (SIGKILL, no goodbye), the
 * coordinator notices within its alive timeout and the standby takes over. The
 * client's reference follows without the client doing anything.
 *
 *     deno run --allow-net --allow-read --allow-run examples/ha_failover.ts
 *
 * Run with `--agent <id> <endpoint>`, this file is one of the agent processes.
 */
import { createNetworkClient } from '@huly/network/client'
import type { Container, ContainerKind, ContainerUuid } from '@huly/network/core'
import { startCoordinator } from '@huly/network/server'

/** Short timings so the example is quick: a silent peer is dead after 1 s. */
const timeouts = { pingIntervalMs: 250, aliveTimeoutMs: 1_000 }

if (Deno.args[0] === '--agent') {
  const [, agentId, endpoint] = Deno.args
  const leader: Container = {
    request: (operation) => Promise.resolve(operation === 'who' ? agentId : null),
  }
  const client = await createNetworkClient(endpoint, { timeouts })
  await client.serveAgent('127.0.0.1:0', {}, {
    agentId,
    stateless: [{
      options: { uuid: 'leader-1' as ContainerUuid, kind: 'leader' as ContainerKind, labels: [] },
      container: leader,
    }],
  })
  console.log('ready')
  Deno.addSignalListener('SIGTERM', () => client.close().then(() => Deno.exit(0)))
  // The parent holds our stdin: when it is gone, so are we.
  await Deno.stdin.readable.pipeTo(new WritableStream())
  await client.close()
  Deno.exit(0)
} else {
  await using coordinator = await startCoordinator({ port: 0, timeouts })
  const agents: Deno.ChildProcess[] = []
  try {
    agents.push(await startAgentProcess('agent-1', coordinator.endpoint))
    agents.push(await startAgentProcess('agent-2', coordinator.endpoint))
    await using client = await createNetworkClient(coordinator.endpoint, { timeouts })
    await using ref = await client.get('leader', { uuid: 'leader-1' })
    console.log(`leader-1 is served by ${await ref.request('who')}`)

    const takenOver = Promise.withResolvers<void>()
    client.onUpdate((event) => {
      for (const { type, container } of event.containers) {
        if (container.uuid !== 'leader-1') continue
        console.log(`network: leader-1 ${type} on ${container.agentId}`)
        if (type === 'added') takenOver.resolve()
      }
    })
    const killedAt = performance.now()
    agents[0].kill('SIGKILL')
    console.log('agent-1 killed')
    await takenOver.promise
    console.log(`standby took over after ${((performance.now() - killedAt) / 1000).toFixed(1)} s`)
    console.log(`leader-1 is served by ${await ref.request('who')}`)
  } finally {
    for (const agent of agents) {
      try {
        agent.kill('SIGTERM')
      } catch {
        // already dead
      }
    }
    await Promise.all(agents.map((agent) => agent.status))
  }
}

/** Starts this file as an agent process and waits until it registered. */
async function startAgentProcess(agentId: string, endpoint: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      'run',
      '--allow-net',
      import.meta.filename!,
      '--agent',
      agentId,
      endpoint,
    ],
    stdin: 'piped',
    stdout: 'piped',
    stderr: 'inherit',
  }).spawn()
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader()
  let output = ''
  while (!output.includes('ready\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`${agentId} exited before it was ready`)
    output += value
  }
  await reader.cancel()
  return child
}
