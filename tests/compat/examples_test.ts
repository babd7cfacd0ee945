// Our versions of huly.net's seven examples (examples/huly-net/), each run as its own
// process as its header says, printing what it promises.
import assert from 'node:assert/strict'

const examples = new URL('../../examples/huly-net/', import.meta.url).pathname

/** Runs an example with --allow-net; its stdout lines once it exited 0. */
async function run(file: string): Promise<string[]> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ['run', '--allow-net', `${examples}${file}`],
    stdout: 'piped',
    stderr: 'piped',
    signal: AbortSignal.timeout(30_000),
  })
  const { code, stdout, stderr } = await command.output()
  const decoder = new TextDecoder()
  assert.equal(code, 0, `${file} exited ${code}:\n${decoder.decode(stderr)}`)
  return decoder.decode(stdout).trimEnd().split('\n')
}

const expectations: Record<string, string[]> = {
  'basic_request_response.ts': [
    '2 + 3 = 5',
    'plain request: 15',
    'history: 2+3, 10+5',
    'unknown method: UnknownMethodError',
  ],
  'event_broadcasting.ts': [
    'delivered to 2 member(s)',
    'alice received {"from":"alice","text":"hi all"}',
    'bob received {"from":"alice","text":"hi all"}',
  ],
  'multi_tenant.ts': [
    'acme sees: acme plan',
    'globex sees: globex plan',
    'acme again is the same container: true',
    'workspaces: 2',
  ],
  'production_setup.ts': [
    'health: 2 agents, 2 workers on 2 agents',
    'after shutdown: 1 agent',
    'new work still served: true',
  ],
  'error_handling_retry.ts': [
    'retrying after: attempt 1 failed',
    'retrying after: attempt 2 failed',
    'unstable ok after 3 call(s)',
    'gave up: no answer within 100 ms',
    'error class: ContainerNotFoundError',
  ],
  'custom_timeouts.ts': [
    'network timings: alive 10000 ms, unused 1000 ms',
    'client connected with an alive timeout of 30 s',
    'released container ended after its unused timeout: true',
  ],
  'ha_stateless.ts': ['answered by primary', 'answered by standby'],
}

for (const [file, lines] of Object.entries(expectations)) {
  Deno.test(`huly.net example ${file} runs on compat and prints what it shows`, async () => {
    assert.deepEqual(await run(file), lines)
  })
}

Deno.test('every example in examples/huly-net is run by this test file', async () => {
  const files: string[] = []
  for await (const entry of Deno.readDir(examples)) {
    if (entry.name.endsWith('.ts') && !entry.name.startsWith('_')) files.push(entry.name)
  }
  assert.deepEqual(files.sort(), Object.keys(expectations).sort())
})
