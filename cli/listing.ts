// `agents`, `kinds` and `containers`: what the coordinator knows, as a table or JSON.
import { type Command, help } from './_command.ts'
import { withClient } from './_client.ts'
import { clientFlags, clientOptions, clientOptionsHelp, parseCommand } from './_options.ts'
import { agentTable, containerTable, out, table, toJson } from './_output.ts'

/** `agents`: the registered agents. */
export const agents: Command = {
  name: 'agents',
  summary: 'list the registered agents',
  usage: `Usage: huly-network agents [options]

Lists the agents registered with the coordinator: id, kinds, live containers, endpoint.

${clientOptionsHelp}
`,
  async run(args, env) {
    const { values } = parseCommand(args, clientOptions, { min: 0, max: 0, names: '' })
    if (values.help) return help(agents)
    const flags = clientFlags(values, env)
    const records = await withClient(flags, (client) => client.agents())
    out(flags.json ? toJson(records) : agentTable(records))
    return 0
  },
}

/** `kinds`: the kinds some agent offers. */
export const kinds: Command = {
  name: 'kinds',
  summary: 'list the container kinds some agent offers',
  usage: `Usage: huly-network kinds [options]

Lists every container kind some live agent offers, once each.

${clientOptionsHelp}
`,
  async run(args, env) {
    const { values } = parseCommand(args, clientOptions, { min: 0, max: 0, names: '' })
    if (values.help) return help(kinds)
    const flags = clientFlags(values, env)
    const list = await withClient(flags, (client) => client.kinds())
    out(flags.json ? toJson(list) : table(['KIND'], list.map((kind) => [kind])))
    return 0
  },
}

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
