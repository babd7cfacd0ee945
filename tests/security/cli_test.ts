import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readCoordinatorConfig } from '../../cli/serve_config.ts'
import { cliPermissions, root, runCli, Running, startCli } from '../cli/_cli.ts'

const cliPath = join(root, 'cli/main.ts')

/** `keygen` with the permission it needs (`deno task keygen`), in `dir`. */
async function keygen(dir: string, ...args: string[]) {
  const running = new Running('keygen', Deno.execPath(), [
    'run',
    ...cliPermissions,
    '--allow-write',
    cliPath,
    'keygen',
    ...args,
  ], { cwd: dir })
  return { ...await running.exited(), stdout: running.stdout, stderr: running.stderr }
}

Deno.test('keygen writes NAME.key with mode 0600 and NAME.pub, and replaces them only with --force', async () => {
  const dir = await Deno.makeTempDir({ prefix: 'huly-keygen-' })
  try {
    const first = await keygen(dir, 'agent-1')
    assert.equal(first.code, 0, first.stderr.join('\n'))
    const secret = await Deno.stat(join(dir, 'agent-1.key'))
    assert.equal(secret.mode! & 0o777, 0o600)
    const publicKey = (await Deno.readTextFile(join(dir, 'agent-1.pub'))).trim()
    assert.equal(publicKey.length, 40)
    assert.match(
      first.stdout[0],
      new RegExp(`^${publicKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    )

    const again = await keygen(dir, 'agent-1')
    assert.equal(again.code, 2)
    assert.match(again.stderr.join('\n'), /exists; use --force/)
    assert.equal((await Deno.readTextFile(join(dir, 'agent-1.pub'))).trim(), publicKey)

    const forced = await keygen(dir, 'agent-1', '--force')
    assert.equal(forced.code, 0)
    assert.notEqual((await Deno.readTextFile(join(dir, 'agent-1.pub'))).trim(), publicKey)
    assert.equal((await Deno.stat(join(dir, 'agent-1.key'))).mode! & 0o777, 0o600)

    // Without --allow-write (the `net` task) it says how to run it.
    const denied = await runCli(['keygen', join(dir, 'other')])
    assert.equal(denied.code, 1)
    assert.match(denied.stderr.join('\n'), /deno task keygen/)
  } finally {
    await Deno.remove(dir, { recursive: true })
  }
})

Deno.test('serve refuses a non-loopback host without keys (exit 2) unless --insecure', async () => {
  const byFlag = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'])
  assert.equal(byFlag.code, 2)
  assert.match(byFlag.stderr.join('\n'), /not a loopback address.*--access FILE, or --insecure/)
  const byEnv = await runCli(['serve', '--port', '0'], { env: { HULY_NETWORK_HOST: '10.1.2.3' } })
  assert.equal(byEnv.code, 2)
  assert.match(byEnv.stderr.join('\n'), /HULY_NETWORK_HOST 10\.1\.2\.3 is not a loopback/)
  const env = () => undefined
  assert.equal(readCoordinatorConfig(['--host', '0.0.0.0', '--insecure'], env)?.insecure, true)
  assert.equal(readCoordinatorConfig(['--host', '127.0.0.1'], env)?.host, '127.0.0.1')
  assert.equal(
    readCoordinatorConfig(['--host', '0.0.0.0', '--access', 'a.json'], env)?.access,
    'a.json',
  )
})

Deno.test('serve with an access file encrypts: client commands need --key and --server-key', async () => {
  const dir = await Deno.makeTempDir({ prefix: 'huly-access-' })
  let serve: Running | undefined
  try {
    for (const name of ['coordinator', 'ops']) assert.equal((await keygen(dir, name)).code, 0)
    const access = join(dir, 'access.json')
    await Deno.writeTextFile(
      access,
      JSON.stringify({
        secretKeyFile: 'coordinator.key',
        peers: [{ name: 'ops', publicKeyFile: 'ops.pub', role: 'admin' }],
      }),
    )
    const broken = join(dir, 'broken.json')
    await Deno.writeTextFile(
      broken,
      JSON.stringify({ secretKeyFile: 'coordinator.key', peers: [{ name: 'x' }] }),
    )
    const bad = await runCli(['serve', '--port', '0', '--access', broken])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr.join('\n'), /broken\.json: peers\[0\]\.publicKey/)

    serve = startCli(['serve', '--port', '0', '--log-level', 'warning', '--access', access])
    const [, address, publicKey] = await serve.waitFor(
      /listening on tcp:\/\/(127\.0\.0\.1:\d+) \(CURVE, public key (\S{40})\)$/,
    )
    assert.equal(publicKey, (await Deno.readTextFile(join(dir, 'coordinator.pub'))).trim())
    const keyed = await runCli([
      'kinds',
      '--network',
      address,
      '--key',
      join(dir, 'ops.key'),
      '--server-key',
      publicKey,
      '--json',
    ])
    assert.equal(keyed.code, 0, keyed.stderr.join('\n'))
    assert.deepEqual(JSON.parse(keyed.stdout.join('')), [])
    const plain = await runCli(['kinds', '--network', address, '--connect-timeout', '1'])
    assert.equal(plain.code, 1)
    const half = await runCli(['kinds', '--network', address, '--key', join(dir, 'ops.key')])
    assert.equal(half.code, 2)
    assert.match(half.stderr.join('\n'), /--key and --server-key go together/)
  } finally {
    await serve?.stop()
    await Deno.remove(dir, { recursive: true })
  }
})

Deno.test('the limit flags and their variables are read, and bad values exit 2', () => {
  const config = readCoordinatorConfig(
    ['--rate-limit', '100', '--max-in-flight', '64'],
    (name) => ({ HULY_NETWORK_RATE_BURST: '200' } as Record<string, string>)[name],
  )!
  assert.deepEqual([config.rateLimit, config.rateBurst, config.maxInFlight], [100, 200, 64])
  assert.throws(
    () => readCoordinatorConfig(['--rate-limit', '1.5']),
    /--rate-limit must be an integer >= 0/,
  )
  assert.throws(
    () =>
      readCoordinatorConfig([], (name) => name === 'HULY_NETWORK_MAX_IN_FLIGHT' ? '0' : undefined),
    /HULY_NETWORK_MAX_IN_FLIGHT must be an integer >= 1/,
  )
})
