// deno-lint-ignore-file no-console -- the entry point of a command-line program
/**
 * `huly-network`: the command-line tool (`deno task net <command>`, or the binary
 * built by `deno task compile`). Run it with `--help` for the list of commands.
 *
 * @module
 */
import { type Command, help } from './_command.ts'
import { agent } from './agent.ts'
import { bench } from './bench.ts'
import { events } from './events.ts'
import { get } from './get.ts'
import { keygen } from './keygen.ts'
import { agents, containers, kinds } from './listing.ts'
import { CliError, type Env, ExitCode, UsageError } from './_options.ts'
import { err, out } from './_output.ts'
import { request } from './request.ts'
import { serve } from './serve.ts'
import { version } from './version.ts'

/** Every command, in the order of the help. */
export const commands: readonly Command[] = [
  serve,
  agent,
  agents,
  kinds,
  containers,
  get,
  request,
  events,
  bench,
  keygen,
  version,
]

const usage = `Usage: huly-network <command> [options]
       deno task net <command> [options]

Commands:
${commands.map((command) => `  ${command.name.padEnd(12)}${command.summary}`).join('\n')}

Run "huly-network <command> --help" for the options of a command.
Exit codes: 0 done, 1 coordinator unreachable or connection failed, 2 bad flag,
argument or environment value, 3 the network or a container answered with an error.
`

/** Runs one command line; resolves with the exit code. */
export async function main(
  args: string[],
  env: Env = (name) => Deno.env.get(name),
): Promise<number> {
  const [name, ...rest] = args
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = commands.find((command) => command.name === rest[0])
    if (topic !== undefined) return help(topic)
    if (name === undefined) {
      err(usage.trimEnd())
      return ExitCode.usage
    }
    out(usage.trimEnd())
    return ExitCode.ok
  }
  if (name === '--version') return await version.run([], env)
  const command = commands.find((candidate) => candidate.name === name)
  if (command === undefined) {
    err(`huly-network: unknown command "${name}" (see huly-network --help)`)
    return ExitCode.usage
  }
  try {
    return await command.run(rest, env)
  } catch (error) {
    if (error instanceof UsageError) {
      err(
        `huly-network ${command.name}: ${error.message} (see huly-network ${command.name} --help)`,
      )
      return ExitCode.usage
    }
    if (error instanceof CliError) {
      err(`huly-network ${command.name}: ${error.message}`)
      return error.exitCode
    }
    console.error(error)
    return ExitCode.unreachable
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args))
