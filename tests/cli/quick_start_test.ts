import assert from 'node:assert/strict'
import { createNetworkClient } from '../../client/mod.ts'
import { coordinatorEnvironment } from '../../cli/serve_config.ts'
import { root, runCli, Running } from './_cli.ts'

const readme = Deno.readTextFileSync(`${root}README.md`)

/** The commands of the README's "Quick start", in order. */
function quickStartCommands(): string[] {
  const section = readme.split(/^## Quick start$/m)[1].split(/^## /m)[0]
  return [...section.matchAll(/```sh\n([^`]*)```/g)].map((block) => block[1].trim())
}

Deno.test('the README quick start starts the coordinator with `deno task start`, and a client connects to it', async () => {
  const [start, test] = quickStartCommands()
  assert.match(start, /^npx -y deno@(\S+) task start\s+# or, with Deno installed: deno task start$/)
  assert.match(test, /^npx -y deno@(\S+) task test\s+# or: deno task test$/)
  assert.equal(start.match(/deno@(\S+)/)![1], Deno.version.deno, 'the README pins this Deno')

  // Exactly `deno task start`; the port comes from the environment so the test
  // never collides with a coordinator already on 3737.
  await using coordinator = new Running('deno task start', Deno.execPath(), ['task', 'start'], {
    env: { HULY_NETWORK_PORT: '0', HULY_NETWORK_HTTP_PORT: '0' },
  })
  const match = await coordinator.waitFor(/listening on (tcp:\/\/127\.0\.0\.1:\d+)$/)
  await using client = await createNetworkClient(match[1])
  await client.waitConnection(5000)
  assert.deepEqual(await client.kinds(), [])
  assert.deepEqual(await client.agents(), [])
  await client.close()
  coordinator.kill('SIGTERM')
  assert.equal((await coordinator.exited()).code, 0)
})

Deno.test('`deno task start --help` lists every environment variable the coordinator reads', async () => {
  const help = new Running('deno task start --help', Deno.execPath(), ['task', 'start', '--help'])
  const { code } = await help.exited()
  assert.equal(code, 0)
  for (const variable of Object.values(coordinatorEnvironment)) {
    assert.ok(help.stdout.some((line) => line.includes(variable)), variable)
  }
})

Deno.test('the README and docs/ document every HULY_NETWORK_ variable the code reads, and no other', async () => {
  const read = new Set<string>()
  const scan = async (folder: string): Promise<void> => {
    for await (const entry of Deno.readDir(folder)) {
      if (entry.isDirectory) await scan(`${folder}/${entry.name}`)
      if (!entry.name.endsWith('.ts')) continue
      const source = await Deno.readTextFile(`${folder}/${entry.name}`)
      // Names in string literals: env('…'), Deno.env.get('…') and the tables of names.
      for (const match of source.matchAll(/'(HULY_(?:NETWORK|LIBZMQ)_[A-Z_]+)'/g)) {
        read.add(match[1])
      }
    }
  }
  for (const folder of ['cli', 'server', 'client', 'core', 'rpc']) await scan(`${root}${folder}`)
  assert.ok(read.has('HULY_LIBZMQ_PATH') && read.has('HULY_NETWORK_PORT'))
  const docs = [readme]
  for await (const entry of Deno.readDir(`${root}docs`)) {
    if (entry.name.endsWith('.md')) docs.push(await Deno.readTextFile(`${root}docs/${entry.name}`))
  }
  const documented = new Set(docs.join('\n').match(/HULY_(?:NETWORK|LIBZMQ)_[A-Z_]+/g))
  assert.deepEqual([...read].filter((name) => !documented.has(name)), [], 'read, not documented')
  assert.deepEqual([...documented].filter((name) => !read.has(name)), [], 'documented, not read')
  // And the CLI's help agrees with the docs about the coordinator's.
  const serveHelp = await runCli(['serve', '--help'])
  for (const variable of Object.values(coordinatorEnvironment)) {
    assert.ok(serveHelp.stdout.join('\n').includes(variable), variable)
  }
})
