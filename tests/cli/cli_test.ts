import assert from 'node:assert/strict'
import { runCli, type Running, startCli, startServe } from './_cli.ts'

/** A coordinator (`serve`) and a demo agent (`agent`), both always stopped. */
async function withServeAndAgent(
  fn: (setup: { serve: Running; agent: Running; address: string; port: number }) => Promise<void>,
  serveArgs: string[] = [],
): Promise<void> {
  await using serving = await startServe(serveArgs)
  const { serve, address, port } = serving
  await using agent = startCli([
    'agent',
    '--network',
    address,
    '--id',
    'agent-cli',
    '--listen',
    '127.0.0.1:0',
  ])
  await agent.waitFor(/^agent agent-cli registered with /)
  await fn({
    serve,
    agent,
    address,
    port,
  })
}

Deno.test('serve, agent, then agents, kinds, get, request and containers print what they should', async () => {
  await withServeAndAgent(async ({ address }) => {
    const n = ['--network', address]
    const agents = await runCli(['agents', ...n])
    assert.equal(agents.code, 0, agents.stderr.join('\n'))
    assert.match(agents.stdout[0], /^AGENT\s+KINDS\s+CONTAINERS\s+ENDPOINT$/)
    assert.match(agents.stdout[1], /^agent-cli\s+echo,counter\s+0\s+tcp:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(agents.stdout.length, 2)

    const kinds = await runCli(['kinds', ...n])
    assert.equal(kinds.code, 0)
    assert.deepEqual(kinds.stdout, ['KIND', 'echo', 'counter'])

    const got = await runCli(['get', 'echo', '--uuid', 'x', ...n])
    assert.equal(got.code, 0, got.stderr.join('\n'))
    assert.match(got.stdout[1], /^x\s+echo\s+agent-cli\s+-\s+routed tcp:\/\/127\.0\.0\.1:\d+$/)

    const answer = await runCli(['request', 'x', 'echo', '{"a":1}', ...n])
    assert.equal(answer.code, 0, answer.stderr.join('\n'))
    assert.deepEqual(JSON.parse(answer.stdout.join('\n')), { a: 1 })

    const containers = await runCli(['containers', '--json', ...n])
    assert.equal(containers.code, 0)
    const records = JSON.parse(containers.stdout.join('\n'))
    assert.equal(records.length, 1)
    assert.equal(records[0].uuid, 'x')
    assert.equal(records[0].kind, 'echo')
    assert.equal(records[0].agentId, 'agent-cli')
    assert.equal(records[0].endpoint.kind, 'routed')
  }, ['--unused-timeout', '30'])
})

Deno.test('SIGTERM stops serve with exit 0 within 2 s; the agent waits for the coordinator and registers again', async () => {
  await withServeAndAgent(async ({ serve, agent, port }) => {
    const signalledAt = performance.now()
    serve.kill('SIGTERM')
    const { code, ms } = await serve.exited(signalledAt)
    assert.equal(code, 0)
    assert.ok(ms < 2000, `serve took ${ms.toFixed(0)} ms to exit`)
    await agent.waitFor(/^agent agent-cli lost the coordinator; waiting for it to come back$/, {
      timeoutMs: 5000,
    })
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(await Promise.race([agent.status.then(() => 'exited'), 'running']), 'running')

    {
      await using again = startCli([
        'serve',
        '--port',
        String(port),
        '--no-http',
        '--log-level',
        'warning',
      ])
      await again.waitFor(/listening on /)
      await agent.waitFor(/^agent agent-cli registered again with /, { timeoutMs: 10_000 })
      const agents = await runCli(['agents', '--json', '--network', `127.0.0.1:${port}`])
      assert.deepEqual(JSON.parse(agents.stdout[0]).map((a: { agentId: string }) => a.agentId), [
        'agent-cli',
      ])
    }
    // With the coordinator gone, a stopped agent still exits at once.
    const stoppedAt = performance.now()
    agent.kill('SIGTERM')
    const stopped = await agent.exited(stoppedAt)
    assert.equal(stopped.code, 0)
    assert.ok(stopped.ms < 2000, `the agent took ${stopped.ms.toFixed(0)} ms to exit`)
  })
})

Deno.test('get --watch holds the container and prints each event a burst pushes, until SIGTERM', async () => {
  await withServeAndAgent(async ({ address }) => {
    await using watch = startCli([
      'get',
      'echo',
      '--uuid',
      'w',
      '--watch',
      '--json',
      '--network',
      address,
    ])
    await watch.waitFor(/^holding w; printing its events until interrupted$/, {
      stream: 'stderr',
    })
    assert.equal(JSON.parse(watch.stdout[0]).uuid, 'w')
    const burst = await runCli(['request', 'w', 'burst', '{"n":3}', '--network', address])
    assert.equal(burst.code, 0, burst.stderr.join('\n'))
    assert.deepEqual(burst.stdout, ['3'])
    await watch.waitFor(/"i":2/)
    assert.deepEqual(watch.stdout.slice(1).map((line) => JSON.parse(line)), [
      { uuid: 'w', event: { i: 0 } },
      { uuid: 'w', event: { i: 1 } },
      { uuid: 'w', event: { i: 2 } },
    ])
    watch.kill('SIGTERM')
    assert.equal((await watch.exited()).code, 0)
  })
})

Deno.test('events streams agents and containers as they are added and removed', async () => {
  await using serving = await startServe(['--unused-timeout', '0.5'])
  const { address } = serving
  await using events = startCli(['events', '--network', address])
  await events.waitFor(/^streaming the events of /, { stream: 'stderr' })
  await using agent = startCli(['agent', '--network', address, '--id', 'agent-ev', '--no-endpoint'])
  await events.waitFor(/^agent added agent-ev kinds=echo,counter containers=0$/)
  const got = await runCli([
    'get',
    'counter',
    '--uuid',
    'c',
    '--extra',
    '{"start":5}',
    '-n',
    address,
  ])
  assert.equal(got.code, 0, got.stderr.join('\n'))
  await events.waitFor(
    /^container added c kind=counter agent=agent-ev labels=- endpoint=network$/,
  )
  // get released its reference on exit: the counter ends after the unused timeout.
  await events.waitFor(/^container removed c kind=counter /)
  await agent.stop()
  await events.waitFor(/^agent removed agent-ev /)
})

Deno.test('the counter kind counts and rejects an unknown operation with exit code 3', async () => {
  await withServeAndAgent(async ({ address }) => {
    const n = ['--network', address]
    await using watch = startCli([
      'get',
      'counter',
      '--uuid',
      'k',
      '--extra',
      '{"start":5}',
      '--watch',
      ...n,
    ])
    await watch.waitFor(/^holding k/, { stream: 'stderr' })
    assert.deepEqual((await runCli(['request', 'k', 'increment', '{"by":2}', ...n])).stdout, [
      '7',
    ])
    assert.deepEqual((await runCli(['request', 'k', 'get', ...n])).stdout, ['7'])
    await watch.waitFor(/^event \{"value":7\}$/)
    const wrong = await runCli(['request', 'k', 'explode', ...n])
    assert.equal(wrong.code, 3)
    assert.deepEqual(wrong.stderr, [
      'huly-network request: UnknownMethodError: counter has no operation "explode" (get, increment, reset)',
    ])
    const missing = await runCli(['request', 'nobody', 'get', ...n])
    assert.equal(missing.code, 3)
    assert.match(missing.stderr.join('\n'), /^huly-network request: ContainerNotFoundError: /)
  })
})
