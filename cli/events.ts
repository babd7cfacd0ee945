// `events`: the coordinator's change events, one line per change.
import type { NetworkEvent } from '../core/mod.ts'
import { type Command, help } from './_command.ts'
import { interruptedAfterSaying, reportConnection, withClient } from './_client.ts'
import { clientFlags, clientOptions, clientOptionsHelp, parseCommand } from './_options.ts'
import { describeEndpoint, out, toJson } from './_output.ts'

/** One line per change of a network event. */
export function describeEvent(event: NetworkEvent, json: boolean): string[] {
  const lines: string[] = []
  for (const { type, agent } of event.agents) {
    lines.push(
      json
        ? toJson({ type, agent })
        : `agent ${type} ${agent.agentId} kinds=${
          agent.kinds.join(',') || '-'
        } containers=${agent.containers}`,
    )
  }
  for (const { type, container } of event.containers) {
    lines.push(
      json
        ? toJson({ type, container })
        : `container ${type} ${container.uuid} kind=${container.kind} agent=${container.agentId} labels=${
          container.labels.join(',') || '-'
        } endpoint=${describeEndpoint(container.endpoint).replace(' ', ':')}`,
    )
  }
  return lines
}

/** The events command. */
export const events: Command = {
  name: 'events',
  summary: 'stream the network events (agents and containers added, updated, removed)',
  usage: `Usage: huly-network events [options]

Prints every change the coordinator publishes, one line each, until SIGINT or SIGTERM
(and on stderr when the coordinator is lost and when it is back):
  agent added|updated|removed ID kinds=… containers=N
  container added|updated|removed UUID kind=… agent=… labels=… endpoint=…
With --json, each line is a JSON object {type, agent} or {type, container}.

${clientOptionsHelp}
`,
  async run(args, env) {
    const { values } = parseCommand(args, clientOptions, { min: 0, max: 0, names: '' })
    if (values.help) return help(events)
    const flags = clientFlags(values, env)
    return await withClient(flags, async (client) => {
      client.onUpdate((event) => {
        for (const line of describeEvent(event, flags.json)) out(line)
      })
      await interruptedAfterSaying(`streaming the events of ${flags.network} until interrupted`)
      return 0
    }, reportConnection(flags))
  },
}
