// `serve`: the coordinator, exactly what `deno task start` runs.
import { coordinatorUsage, runCoordinator } from '../server/main.ts'
import type { Command } from './_command.ts'

/** The coordinator command. */
export const serve: Command = {
  name: 'serve',
  summary: 'run the coordinator (what `deno task start` runs)',
  usage: coordinatorUsage,
  run: (args, env) => runCoordinator(args, 'huly-network serve', env),
}
