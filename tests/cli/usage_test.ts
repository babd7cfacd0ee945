import assert from 'node:assert/strict'
import denoJson from '../../deno.json' with { type: 'json' }
import { commands } from '../../cli/main.ts'
import { freePort, runCli, startServe } from './_cli.ts'

const badInput: Array<{ args: string[]; env?: Record<string, string>; says: RegExp }> = [
  { args: ['serve', '--port', 'x'], says: /--port must be an integer from 0 to 65535, got "x"/ },
  { args: ['serve'], env: { HULY_NETWORK_PORT: '70000' }, says: /HULY_NETWORK_PORT must be/ },
  { args: ['serve', '--bogus'], says: /Unknown option '--bogus'/ },
  {
    args: ['serve'],
    env: { HULY_NETWORK_ALIVE_TIMEOUT: '-1' },
    says: /HULY_NETWORK_ALIVE_TIMEOUT/,
  },
  { args: ['serve', '--log-format', 'xml'], says: /--log-format must be text or json/ },
  { args: ['serve'], env: { HULY_NETWORK_LOG_LEVEL: 'loud' }, says: /HULY_NETWORK_LOG_LEVEL/ },
  { args: ['serve', '--ping-interval', '5'], says: /must be longer than the ping interval/ },
  { args: ['agents', '--connect-timeout', '0'], says: /--connect-timeout must be a number/ },
  { args: ['agents'], env: { HULY_NETWORK_ADDRESS: 'nowhere' }, says: /HULY_NETWORK_ADDRESS/ },
  { args: ['kinds'], env: { HULY_NETWORK_CONNECT_TIMEOUT: 'soon' }, says: /CONNECT_TIMEOUT/ },
  { args: ['containers', 'extra'], says: /unexpected argument "extra"/ },
  { args: ['request', 'x'], says: /missing the container uuid and the operation/ },
  { args: ['request', 'x', 'echo', '{bad'], says: /the request data is not JSON/ },
  { args: ['get'], says: /missing the container kind/ },
  { args: ['get', 'echo', '--extra', '[1]'], says: /--extra must be a JSON object/ },
  { args: ['agent', '--listen', 'nowhere'], says: /--listen must be HOST:PORT/ },
  { args: ['agent', '--no-endpoint', '--listen', '127.0.0.1:0'], says: /--no-endpoint excludes/ },
  { args: ['bench', 'now'], says: /unexpected argument "now"/ },
  { args: ['launch'], says: /unknown command "launch"/ },
]

Deno.test('bad flags, arguments and environment values exit 2 with a one-line explanation', async () => {
  for (const { args, env, says } of badInput) {
    const result = await runCli(args, { env })
    const what = `${args.join(' ')} ${JSON.stringify(env ?? {})}`
    assert.equal(result.code, 2, `${what}: exit code ${result.code}`)
    assert.equal(result.stderr.length, 1, `${what}: stderr ${result.stderr.join('\n')}`)
    assert.match(result.stderr[0], says, what)
    assert.match(result.stderr[0], /^huly-network/, what)
    assert.deepEqual(result.stdout, [], what)
  }
})

Deno.test('an unreachable coordinator gives one line and exit 1, within the connect timeout', async () => {
  const port = freePort()
  for (const args of [['agents'], ['request', 'x', 'echo'], ['get', 'echo'], ['agent']]) {
    const result = await runCli([
      ...args,
      '--network',
      `127.0.0.1:${port}`,
      '--connect-timeout',
      '1',
    ])
    assert.equal(result.code, 1, args.join(' '))
    assert.deepEqual(result.stderr, [
      `huly-network ${args[0]}: cannot reach the coordinator at 127.0.0.1:${port} within 1 s`,
    ])
    // The process waited the connect timeout, plus its own start-up, and no more.
    assert.ok(result.ms >= 1000 && result.ms < 2500, `${args[0]} took ${result.ms.toFixed(0)} ms`)
  }
})

Deno.test('HULY_NETWORK_PORT also tells the client commands where the local coordinator is', async () => {
  const port = freePort()
  const result = await runCli(['kinds', '--connect-timeout', '0.5'], {
    env: { HULY_NETWORK_PORT: String(port) },
  })
  assert.equal(result.code, 1)
  assert.match(result.stderr[0], new RegExp(`at 127\\.0\\.0\\.1:${port} within 0\\.5 s$`))
})

Deno.test('every command answers --help with its usage, and the top-level help lists them all', async () => {
  const top = await runCli(['--help'])
  assert.equal(top.code, 0)
  for (const command of commands) {
    assert.ok(top.stdout.some((line) => line.startsWith(`  ${command.name} `)), command.name)
    const help = await runCli([command.name, '--help'])
    assert.equal(help.code, 0, command.name)
    assert.match(help.stdout[0], /^Usage: /, command.name)
    assert.ok(help.stdout.join('\n').includes(command.name), command.name)
  }
  const none = await runCli([])
  assert.equal(none.code, 2)
  assert.match(none.stderr[0], /^Usage: huly-network <command>/)
})

Deno.test('version prints the package, Deno and wire protocol versions', async () => {
  const text = await runCli(['version'])
  assert.deepEqual(text.stdout, [
    `huly-network ${denoJson.version} (deno ${Deno.version.deno}, protocol 1)`,
  ])
  const json = await runCli(['version', '--json'])
  assert.deepEqual(JSON.parse(json.stdout[0]), {
    network: denoJson.version,
    deno: Deno.version.deno,
    protocol: 1,
  })
})

Deno.test('serve --log-format json writes its logs as JSON lines', async () => {
  await using serving = await startServe(['--log-level', 'info', '--log-format', 'json'])
  const { serve } = serving
  serve.kill('SIGTERM')
  assert.equal((await serve.exited()).code, 0)
  const logs = serve.stdout.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))
  assert.ok(logs.some((log) => log.logger === 'huly-network.server' && log.level === 'INFO'))
  assert.ok(logs.some((log) => log.properties?.signal === 'SIGTERM'))
})
