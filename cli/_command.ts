// The shape of one CLI command.
import type { Env } from './_options.ts'
import { out } from './_output.ts'

/** One command of `huly-network <command>`. */
export interface Command {
  /** The word that selects it. */
  name: string
  /** One line for the command list. */
  summary: string
  /** Its `--help` text. */
  usage: string
  /** Runs it; resolves with the exit code. Throws UsageError or CliError for one-line failures. */
  run(args: string[], env: Env): Promise<number>
}

/** Prints a command's help; exit code 0. */
export function help(command: Command): number {
  out(command.usage.trimEnd())
  return 0
}
