// `agents`, `kinds` and `containers`: what the coordinator knows, as a table or JSON.
import type { NetworkClient } from '../client/mod.ts'
import { type Command, help } from './_command.ts'
import { withClient } from './_client.ts'
import { clientFlags, clientOptions, clientOptionsHelp, parseCommand } from './_options.ts'
import { agentTable, containerTable, out, table, toJson } from './_output.ts'

/**
 * A command without arguments that prints what `fetch` asks the coordinator, as a
 * table or (with --json) JSON.
 */
function listing<T>(
  name: string,
  summary: string,
  description: string,
  fetch: (client: NetworkClient) => Promise<T>,
  render: (value: T) => string,
): Command {
  const command: Command = {
    name,
    summary,
    usage: `Usage: huly-network ${name} [options]\n\n${description}\n\n${clientOptionsHelp}\n`,
    async run(args, env) {
      const { values } = parseCommand(args, clientOptions, { min: 0, max: 0, names: '' })
      if (values.help) return help(command)
      const flags = clientFlags(values, env)
      const value = await withClient(flags, fetch)
      out(flags.json ? toJson(value) : render(value))
      return 0
    },
  }
  return command
}

/** `agents`: the registered agents. */
export const agents: Command = listing(
  'agents',
  'list the registered agents',
  'Lists the agents registered with the coordinator: id, kinds, live containers, endpoint.',
  (client) => client.agents(),
  agentTable,
)

/** `kinds`: the kinds some agent offers. */
export const kinds: Command = listing(
  'kinds',
  'list the container kinds some agent offers',
  'Lists every container kind some live agent offers, once each.',
  (client) => client.kinds(),
  (list) => table(['KIND'], list.map((kind) => [kind])),
)

/** `containers [--kind K]`: the live containers. */
export const containers: Command = {
  name: 'containers',
  summary: 'list the live containers [--kind K]',
  usage: `Usage: huly-network containers [--kind KIND] [options]

Lists the live containers (of one kind with --kind): uuid, kind, agent, labels, endpoint.

  -k, --kind KIND           only containers of this kind
${clientOptionsHelp}
`,
  async run(args, env) {
    const options = { ...clientOptions, kind: { type: 'string', short: 'k' } } as const
    const { values } = parseCommand(args, options, { min: 0, max: 0, names: '' })
    if (values.help) return help(containers)
    const flags = clientFlags(values, env)
    const records = await withClient(flags, (client) => client.list(values.kind as string))
    out(flags.json ? toJson(records) : containerTable(records))
    return 0
  },
}
