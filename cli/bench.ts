// `bench`: the load benchmark of bench/load.ts (three processes on 127.0.0.1).
import { type Command, help } from './_command.ts'
import { CliError, parseCommand } from './_options.ts'
import { out, toJson } from './_output.ts'

/** The bench command. */
export const bench: Command = {
  name: 'bench',
  summary: 'run the load benchmark (coordinator, agent and client as three processes)',
  usage: `Usage: huly-network bench [--json]

Starts a coordinator, a demo agent and a client as three processes on 127.0.0.1
(random ports) and measures gets/s, routed and connected latency and requests/s,
an event burst, each process's RSS and the raw socket echo ceiling. Prints a table
and one JSON object (only the JSON object with --json); progress goes to stderr.
It takes about a minute, starts processes (--allow-run) and needs the deno binary
(not the compiled one).

  --json        print only the JSON object
  -h, --help    show this help
`,
  async run(args) {
    const options = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const
    const { values } = parseCommand(args, options, { min: 0, max: 0, names: '' })
    if (values.help) return help(bench)
    if (!/deno(\.exe)?$/.test(Deno.execPath())) {
      throw new CliError(
        'the benchmark starts `deno run` processes: run it with deno task net bench',
      )
    }
    const { formatLoadTable, runLoadBenchmark } = await loadBenchmark()
    const result = await runLoadBenchmark()
    if (!values.json) {
      out(`load benchmark: 3 processes on 127.0.0.1, ${navigator.hardwareConcurrency} cores`)
      out(formatLoadTable(result))
    }
    out(toJson(result))
    return 0
  },
}

/** The part of bench/load.ts this command uses. */
interface LoadBenchmark {
  runLoadBenchmark(): Promise<Record<string, number>>
  formatLoadTable(result: Record<string, number>): string
}

/**
 * Imports bench/load.ts at run time: the benchmark is not part of the CLI's module
 * graph, so the image and the compiled binary do not carry it.
 */
async function loadBenchmark(): Promise<LoadBenchmark> {
  const url = new URL('../bench/load.ts', import.meta.url).href
  try {
    return await import(url) as LoadBenchmark
  } catch (error) {
    throw new CliError(`the benchmark needs a checkout of the repository (${url}): ${error}`)
  }
}
