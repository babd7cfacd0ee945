// Issue 15, defect 8: the CLI walkthrough of docs/cli.md, replayed command by command with a
// human's pauses between them, each output checked. The pause is just over the
// coordinator's unused-container timeout (1 s here; 5 s by default), which is what
// broke the walkthrough at human speed: 10 s pauses with the default timeout test the
// same thing and take a minute and a half (HULY_WALKTHROUGH_PAUSE_MS=10000 and
// HULY_WALKTHROUGH_UNUSED_TIMEOUT=5 run it so).
import assert from 'node:assert/strict'
import { root, runCli, startCli, startServe } from '../cli/_cli.ts'

const pauseMs = Number(Deno.env.get('HULY_WALKTHROUGH_PAUSE_MS') ?? 1500)
const unusedTimeout = Deno.env.get('HULY_WALKTHROUGH_UNUSED_TIMEOUT') ?? '1'

interface Step {
  /** The arguments after `deno task net`. */
  args: string[]
  /** What its comment says it prints, if it says. */
  prints?: string
}

/** The `deno task net …` lines of the command-line walkthrough in docs/cli.md. */
async function walkthrough(): Promise<Step[]> {
  const section = await Deno.readTextFile(`${root}docs/cli.md`)
  const start = section.indexOf('```sh') + 5
  const block = section.slice(start, section.indexOf('```', start))
  return block.split('\n').filter((line) => line.startsWith('deno task net ')).map((line) => {
    const [command, comment = ''] = line.split(/\s+# /)
    const args = [...command.slice('deno task net '.length).matchAll(/'([^']*)'|(\S+)/g)]
      .map((match) => match[1] ?? match[2])
    return { args, prints: comment.match(/^prints (\S+)/)?.[1] }
  })
}

const pause = () => new Promise((resolve) => setTimeout(resolve, pauseMs))

Deno.test('8. the CLI walkthrough of docs/cli.md works at human speed, every output as it says', async () => {
  const steps = await walkthrough()
  assert.ok(steps.length >= 8, `walkthrough steps: ${steps.length}`)
  await using serving = await startServe(['--unused-timeout', unusedTimeout])
  const { address } = serving
  // The commands are typed as docs/cli.md shows them; the address comes from the environment.
  const env = { env: { HULY_NETWORK_ADDRESS: address } }
  await using background = new AsyncDisposableStack()
  for (const { args, prints } of steps) {
    if (args.includes('--key')) continue // the security line needs a coordinator with keys
    const line = args.join(' ')
    if (args[0] === 'agent') {
      const agent = background.use(startCli(args, env))
      await agent.waitFor(/^agent demo registered with /)
    } else if (args.includes('--watch') || args[0] === 'events') {
      const running = background.use(startCli(args, env))
      await running.waitFor(/^(holding|streaming) /, { stream: 'stderr' })
    } else {
      const result = await runCli(args, env)
      assert.equal(result.code, 0, `${line}: ${result.stderr.join('\n')}`)
      if (prints !== undefined) assert.deepEqual(result.stdout, [prints], line)
      if (args[0] === 'agents') {
        assert.match(result.stdout.join('\n'), /^demo\s+(counter,echo|echo,counter)\s/m)
      }
      if (args[0] === 'kinds') {
        assert.deepEqual(result.stdout.slice(1).sort(), ['counter', 'echo'])
      }
      if (args[0] === 'get') assert.match(result.stdout.join('\n'), /\bx\b/)
    }
    await pause()
  }
})
