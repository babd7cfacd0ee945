// No Docker engine and no `deno compile` runtime download here: these tests check
// that everything the Dockerfile and the compile task name exists and matches the code.
import assert from 'node:assert/strict'
import denoJson from '../../deno.json' with { type: 'json' }
import { commands } from '../../cli/main.ts'
import {
  coordinatorDefaults,
  coordinatorEnvironment,
  readCoordinatorConfig,
} from '../../cli/serve_config.ts'
import { cliPermissions, freePort, root, startServe } from './_cli.ts'

interface Instruction {
  keyword: string
  args: string
}

/** The Dockerfile's instructions, comments dropped and continued lines joined. */
function dockerfile(): Instruction[] {
  const text = Deno.readTextFileSync(`${root}Dockerfile`)
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => {
    const [, keyword, args] = line.trim().match(/^(\w+)\s+(.*)$/)!
    return { keyword: keyword.toUpperCase(), args: args.trim() }
  })
}

function all(keyword: string): string[] {
  return dockerfile().filter((i) => i.keyword === keyword).map((i) => i.args)
}

/** An exec-form (JSON array) command, after any `--option=…` of the instruction. */
function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['))
  return JSON.parse(json)
}

/** The ENV of the final stage as name → value. */
function environment(): Record<string, string> {
  const instructions = dockerfile()
  const lastFrom = instructions.findLastIndex((i) => i.keyword === 'FROM')
  const env: Record<string, string> = {}
  for (const i of instructions.slice(lastFrom)) {
    if (i.keyword !== 'ENV') continue
    for (const match of i.args.matchAll(/(\w+)=(\S+)/g)) env[match[1]] = match[2]
  }
  return env
}

Deno.test('the Dockerfile builds from the official image of the pinned Deno, in two stages', () => {
  const froms = all('FROM')
  assert.ok(froms.length >= 2, 'multi-stage')
  for (const from of froms) {
    assert.match(from, new RegExp(`^denoland/deno:${Deno.version.deno.replaceAll('.', '\\.')}\\b`))
  }
  assert.ok(all('COPY').some((copy) => copy.startsWith('--from=build')), 'copies from the build')
})

Deno.test('every file the Dockerfile copies exists, and nothing it needs is in .dockerignore', async () => {
  const ignored = Deno.readTextFileSync(`${root}.dockerignore`).split('\n')
    .map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'))
  const copied: string[] = []
  for (const copy of all('COPY')) {
    if (copy.startsWith('--from=')) continue
    const words = copy.split(/\s+/).filter((word) => !word.startsWith('--'))
    copied.push(...words.slice(0, -1))
  }
  assert.ok(copied.length > 0)
  for (const path of copied) {
    await Deno.stat(`${root}${path}`)
    const top = path.replace(/\/$/, '')
    assert.ok(!ignored.includes(top), `${path} is copied but ignored`)
  }
  // Every module the CLI imports is under a copied folder or file.
  const graph = new Deno.Command(Deno.execPath(), {
    args: ['info', '--json', 'cli/main.ts'],
    cwd: root,
    stdout: 'piped',
  }).outputSync()
  const modules = JSON.parse(new TextDecoder().decode(graph.stdout)).modules as Array<
    { specifier: string }
  >
  const local = modules.filter(({ specifier }) => specifier.startsWith(`file://${root}`))
  assert.ok(local.length > 20, `only ${local.length} local modules`)
  for (const { specifier } of local) {
    const path = specifier.slice(`file://${root}`.length)
    assert.ok(
      copied.some((c) => c.endsWith('/') ? path.startsWith(c) : path === c),
      `${path} is imported by the CLI but not copied into the image`,
    )
  }
  assert.ok(ignored.includes('node_modules'), 'node_modules is rebuilt inside the image')
})

Deno.test('the image runs the coordinator as a non-root user, bound to 0.0.0.0:3737 and HTTP on 0.0.0.0:3780 by its environment', () => {
  const users = all('USER')
  assert.ok(users.length > 0)
  assert.ok(!['root', '0'].includes(users.at(-1)!), 'non-root')
  const env = environment()
  for (const name of Object.keys(env).filter((name) => name.startsWith('HULY_'))) {
    assert.ok(
      (Object.values(coordinatorEnvironment) as string[]).includes(name),
      `${name} is not read by cli/serve_config.ts`,
    )
  }
  const config = readCoordinatorConfig(['--insecure'], (name) => env[name])!
  assert.equal(config.host, '0.0.0.0')
  assert.equal(String(config.port), coordinatorDefaults.port)
  assert.equal(config.http?.host, '0.0.0.0')
  assert.equal(config.http?.port, Number(coordinatorDefaults['http-port']))
  assert.deepEqual(all('EXPOSE'), [
    `${coordinatorDefaults.port} ${coordinatorDefaults['http-port']}`,
  ])
  assert.equal(coordinatorDefaults.port, '3737')
  assert.equal(coordinatorDefaults['http-port'], '3780')
})

Deno.test("the entry point is the CLI with the tasks' permissions, and CMD a command it has", async () => {
  const entrypoint = execForm(all('ENTRYPOINT')[0])
  assert.deepEqual(entrypoint.slice(0, 2), ['deno', 'run'])
  const script = entrypoint.at(-1)!
  assert.equal(script, 'cli/main.ts')
  await Deno.stat(`${root}${script}`)
  assert.deepEqual(entrypoint.filter((word) => word.startsWith('--allow-')), cliPermissions)
  const start = denoJson.tasks.start.split(/\s+/)
  assert.deepEqual(start.filter((word) => word.startsWith('--allow-')), cliPermissions)
  assert.deepEqual(execForm(all('CMD')[0]), ['serve'])
  assert.equal(start.at(-1), 'serve')
  assert.ok(commands.some((command) => command.name === 'serve'))
})

Deno.test('9. the image refuses to start without an access file unless --insecure is given at run time', () => {
  const env = environment()
  assert.equal(env.HULY_NETWORK_INSECURE, undefined)
  assert.throws(
    () => readCoordinatorConfig([], (name) => env[name]),
    /0\.0\.0\.0 is not a loopback address: .*give --access FILE, or --insecure/,
  )
  const withAccess: Record<string, string> = { ...env, HULY_NETWORK_ACCESS: '/keys/access.json' }
  assert.equal(readCoordinatorConfig([], (name) => withAccess[name])!.access, '/keys/access.json')
  assert.equal(readCoordinatorConfig(['--insecure'], (name) => env[name])!.insecure, true)
})

Deno.test('9. the HEALTHCHECK asks /healthz, succeeding against a live coordinator and failing without one', async () => {
  const healthcheck = execForm(all('HEALTHCHECK')[0])
  assert.deepEqual(healthcheck.slice(0, 2), ['deno', 'eval'])
  assert.match(healthcheck[2], /\/healthz/)
  const httpPort = freePort()
  {
    await using _serving = await startServe(['--http-port', String(httpPort)])
    const healthy = await runDeno(healthcheck.slice(1), {
      HULY_NETWORK_HTTP_PORT: String(httpPort),
    })
    assert.equal(healthy.code, 0, healthy.stderr)
  }
  const unhealthy = await runDeno(healthcheck.slice(1), {
    HULY_NETWORK_HTTP_PORT: String(httpPort),
  })
  assert.notEqual(unhealthy.code, 0)
})

Deno.test('9. every example publishes the dashboard on 127.0.0.1 only', async () => {
  const texts = [
    await Deno.readTextFile(`${root}README.md`),
    await Deno.readTextFile(`${root}docs/deployment.md`),
    await Deno.readTextFile(`${root}Dockerfile`),
  ]
  const published = texts.flatMap((text) =>
    [...text.matchAll(/-p\s+(\S*3780\S*)/g)].map((m) => m[1])
  )
  assert.ok(published.length > 0)
  for (const port of published) assert.match(port, /^127\.0\.0\.1:3780:3780$/)
})

/** Runs `deno <args>` with `env`; its exit code and stderr. */
async function runDeno(args: string[], env: Record<string, string>) {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), { args, env, stdout: 'null' })
    .output()
  return { code, stderr: new TextDecoder().decode(stderr) }
}

Deno.test("the compile task bakes in the CLI's permissions and includes the libzmq addon", async () => {
  const words = denoJson.tasks.compile.split(/\s+/)
  assert.deepEqual(words.slice(0, 2), ['deno', 'compile'])
  assert.deepEqual(words.filter((word) => word.startsWith('--allow-')), cliPermissions)
  const includes = words.flatMap((word, i) => word === '--include' ? [words[i + 1]] : [])
  for (const path of includes) await Deno.stat(`${root}${path}`)
  // The addon rpc/zmq loads: build/manifest.json names it, under an included folder.
  const manifest = JSON.parse(
    await Deno.readTextFile(`${root}node_modules/zeromq/build/manifest.json`),
  ) as Record<string, string>
  const os = Deno.build.os
  const addons = Object.values(manifest).filter((path) => path.startsWith(`${os}/`))
  assert.ok(addons.length > 0)
  for (const addon of addons) {
    const path = `node_modules/zeromq/build/${addon}`
    assert.ok(includes.some((include) => path.startsWith(include)), `${path} is not included`)
    await Deno.stat(`${root}${path}`)
  }
  const output = words[words.indexOf('--output') + 1]
  assert.ok(denoJson.publish.exclude.includes(`${output.split('/')[0]}/`), 'output not published')
  await Deno.stat(`${root}${words.at(-1)}`)
})
