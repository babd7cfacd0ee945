// Issue 15, defect 7: `get --watch` and `events` say when the coordinator dies, and a
// watched container that is gone (its agent restarted) is got again and reconnected.
import assert from 'node:assert/strict'
import { freePort, runCli, type Running, startCli, startServe } from '../cli/_cli.ts'

function startAgent(address: string, listen: string): Running {
  return startCli(['agent', '--network', address, '--id', 'demo', '--listen', listen])
}

Deno.test('7. get --watch re-acquires and reconnects a container whose agent restarted, and says so', async () => {
  await using serving = await startServe(['--alive-timeout', '1', '--ping-interval', '0.25'])
  const { address } = serving
  const listen = `127.0.0.1:${freePort()}`
  const n = ['--network', address]
  await using agent = startAgent(address, listen)
  await agent.waitFor(/^agent demo registered with /)
  await using watch = startCli(['get', 'counter', '--uuid', 'c', '--watch', ...n])
  await watch.waitFor(/^holding c/, { stream: 'stderr' })
  agent.kill('SIGKILL')
  await agent.stop()
  // Started again once the coordinator noticed (a live agent's id is not taken over).
  await watch.waitFor(/^c was removed from agent demo; getting it again$/, { stream: 'stderr' })
  await using again = startAgent(address, listen)
  await again.waitFor(/^agent demo registered with /)
  await watch.waitFor(/^holding c again, on agent demo$/, { stream: 'stderr' })
  const increment = await runCli(['request', 'c', 'increment', '{"by":3}', ...n])
  assert.deepEqual(increment.stdout, ['3'], increment.stderr.join('\n'))
  await watch.waitFor(/^event \{"value":3\}$/)
  assert.ok(
    !watch.stderr.some((line) => /stack|at .*\.ts:\d+/.test(line)),
    watch.stderr.join('\n'),
  )
})

Deno.test('7. get --watch and events say when the coordinator is lost', async () => {
  await using serving = await startServe(['--alive-timeout', '1', '--ping-interval', '0.25'])
  const { serve, address } = serving
  const n = ['--network', address]
  await using agent = startAgent(address, '127.0.0.1:0')
  await agent.waitFor(/^agent demo registered with /)
  await using watch = startCli(['get', 'counter', '--uuid', 'c', '--watch', ...n])
  await using events = startCli(['events', ...n])
  await watch.waitFor(/^holding c/, { stream: 'stderr' })
  await events.waitFor(/^streaming the events of /, { stream: 'stderr' })
  serve.kill('SIGKILL')
  const lost = new RegExp(`^lost the coordinator at ${address}.*; reconnecting$`)
  await watch.waitFor(lost, { stream: 'stderr', timeoutMs: 10_000 })
  await events.waitFor(lost, { stream: 'stderr', timeoutMs: 10_000 })
})
