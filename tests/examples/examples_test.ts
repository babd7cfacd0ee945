// Every example runs as its own process, as the README says to run it, and prints
// what it promises.
import assert from 'node:assert/strict'
import { Running } from '../cli/_cli.ts'

const examples = new URL('../../examples/', import.meta.url).pathname

/** Runs an example with `permissions`; its stdout lines once it exited 0. */
async function run(file: string, permissions: string[]): Promise<string[]> {
  const example = new Running(file, Deno.execPath(), ['run', ...permissions, `${examples}${file}`])
  const timer = setTimeout(() => example.kill('SIGKILL'), 30_000)
  try {
    const { code } = await example.exited()
    assert.equal(code, 0, `${file} exited ${code}:\n${example.stderr.join('\n')}`)
    return example.stdout
  } finally {
    clearTimeout(timer)
    await example.stop()
  }
}

/** The permissions of every example but the one that starts processes: the net only. */
const basic = ['--allow-net']

const expectations: Record<string, { permissions: string[]; check: (lines: string[]) => void }> = {
  'request_response.ts': {
    permissions: basic,
    check: (lines) =>
      assert.deepEqual(lines, [
        'got greeter-1 (kind greeter) on agent-1',
        'answer: hello, Ada',
        'by uuid: hello, Grace',
        'remote error: Error: no operation shout',
      ]),
  },
  'events.ts': {
    permissions: basic,
    check: (lines) => {
      assert.equal(lines[0], 'network: container room-1 added on agent-1')
      assert.ok(lines.includes('alice received: {"from":"alice","text":"hi all"}'))
      assert.ok(lines.includes('delivered to 1 member(s)'))
      assert.equal(lines.at(-1), 'network: container room-1 removed on agent-1')
      assert.equal(lines.length, 4)
    },
  },
  'labels.ts': {
    permissions: basic,
    check: (lines) => {
      const acme = lines[0].match(/^tenant:acme {3}-> (\S+) on (agent-\d)$/)!
      const globex = lines[1].match(/^tenant:globex -> (\S+) on (agent-\d)$/)!
      assert.notEqual(acme[1], globex[1], 'one container per tenant')
      assert.deepEqual([acme[2], globex[2]], ['agent-1', 'agent-2'], 'round-robin')
      assert.equal(lines[2], `tenant:acme again -> ${acme[1]} (same container: true)`)
      assert.equal(
        lines[3],
        'acme was started with {"labels":["tenant:acme","plan:pro"],"extra":{"region":"eu"}}',
      )
      assert.equal(lines[4], 'live workspaces: 2')
    },
  },
  'ha_failover.ts': {
    permissions: [...basic, '--allow-read', '--allow-run'],
    check: (lines) => {
      assert.deepEqual(lines.slice(0, 5), [
        'leader-1 is served by agent-1',
        'agent-1 killed',
        'network: leader-1 removed on agent-1',
        'network: leader-1 added on agent-2',
        lines[4],
      ])
      const seconds = Number(lines[4].match(/^standby took over after (\d+\.\d) s$/)![1])
      assert.ok(seconds < 3, `took ${seconds} s with a 1 s alive timeout`)
      assert.equal(lines[5], 'leader-1 is served by agent-2')
    },
  },
  'secure_tenants.ts': {
    permissions: basic,
    check: (lines) =>
      assert.deepEqual(lines, [
        'workspace:42 asked by frontend-42',
        'direct: workspace:42 asked by frontend-42',
        'frontend-42 -> workspace:7: AuthorizationError (FORBIDDEN)',
        'frontend-42 sees 1 container(s)',
        'an unknown key is admitted: false',
      ]),
  },
  'observability.ts': {
    permissions: basic,
    check: (lines) => {
      assert.match(lines[0], /^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/)
      assert.deepEqual(lines.slice(1), [
        'healthz: ok',
        'huly_network_requests_total{operation="network.request",kind="counter",outcome="ok"} 100',
        'huly_network_requests_total{operation="network.request",kind="counter",outcome="error"} 0',
        'huly_network_containers{kind="counter",state="live"} 1',
        'state: visits (counter, live) on agent-1, 1 reference(s)',
      ])
    },
  },
  'typed_service.ts': {
    permissions: basic,
    check: (lines) =>
      assert.deepEqual(lines, [
        'add(2, 3) = 5',
        'divide(10, 4) = 2.5',
        'divide(1, 0) failed: RangeError: division by zero',
        'history: ["2 + 3","10 / 4"]',
      ]),
  },
}

for (const [file, { permissions, check }] of Object.entries(expectations)) {
  Deno.test(`example ${file} runs and prints what it shows`, async () => {
    check(await run(file, permissions))
  })
}

Deno.test('every example is run by this test file', async () => {
  const files: string[] = []
  for await (const entry of Deno.readDir(examples)) {
    if (entry.name.endsWith('.ts') && !entry.name.startsWith('_')) files.push(entry.name)
  }
  assert.deepEqual(files.sort(), Object.keys(expectations).sort())
})
