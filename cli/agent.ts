// `agent`: a demo agent hosting `echo` and `counter` containers. It reports when it
// loses the coordinator and when it is registered again.
import type { NetworkClient } from '../client/mod.ts'
import { AgentImpl, type AgentUuid } from '../core/mod.ts'
import { type Command, help } from './_command.ts'
import { asCliError, closeWithin, connect, untilInterrupted } from './_client.ts'
import { demoKinds } from './_demo_kinds.ts'
import {
  clientFlags,
  clientOptions,
  clientOptionsHelp,
  type Env,
  parseCommand,
  UsageError,
} from './_options.ts'
import { out, toJson } from './_output.ts'

/** How often the agent checks that it is still connected. */

/** The agent command. */
export const agent: Command = {
  name: 'agent',
  summary: 'run a demo agent hosting the kinds echo and counter',
  usage: `Usage: huly-network agent [--id ID] [--listen HOST:PORT | --no-endpoint] [options]

Runs an agent with two kinds of container, until SIGINT or SIGTERM:
  echo     "echo" answers its data; "burst" {"n": N} pushes N events {"i": …} to every
           connected client (for load tests)
  counter  "get", "increment" {"by": N}, "reset"; connected clients get {"value": …};
           starts at extra.start (0)
It prints one line when registered, when it loses the coordinator (it keeps its
containers and waits for the coordinator to come back) and when registered again.

Agent options (environment variable and default in brackets):
  --id ID                   the agent's id [HULY_NETWORK_AGENT_ID] (a random uuid)
  --listen HOST:PORT        bind the agent's own endpoint, so clients reach its containers
                            in one hop; port 0 picks a free one
                            [HULY_NETWORK_AGENT_LISTEN] (127.0.0.1:3738)
  --advertise HOST:PORT     the address clients should use for that endpoint
                            [HULY_NETWORK_AGENT_ADVERTISE] (the bound one)
  --no-endpoint             bind nothing: containers are reached through the coordinator
${clientOptionsHelp}
`,
  async run(args, env) {
    const options = {
      ...clientOptions,
      id: { type: 'string' },
      listen: { type: 'string' },
      advertise: { type: 'string' },
      'no-endpoint': { type: 'boolean' },
    } as const
    const { values } = parseCommand(args, options, { min: 0, max: 0, names: '' })
    if (values.help) return help(agent)
    const flags = clientFlags(values, env)
    const settings = agentSettings(values, env)
    const report = (event: string, text: string, fields: Record<string, unknown> = {}) =>
      out(flags.json ? toJson({ event, agentId, ...fields }) : `agent ${agentId} ${text}`)
    const agentId = settings.id
    let onConnectionChange: (connected: boolean) => void = () => {}
    const client = await connect(flags, (connected) => onConnectionChange(connected))
    try {
      let endpoint: string | undefined
      if (settings.listen === undefined) {
        await client.register(new AgentImpl(agentId as AgentUuid, demoKinds))
      } else {
        const served = await client.serveAgent(settings.listen, demoKinds, {
          agentId,
          advertise: settings.advertise,
        })
        endpoint = served.endpoint
      }
      const kinds = Object.keys(demoKinds)
      const interrupted = untilInterrupted() // before the line that says we are ready
      report(
        'registered',
        `registered with ${flags.network}, endpoint ${endpoint ?? 'none'}, kinds ${
          kinds.join(', ')
        }`,
        { network: flags.network, endpoint, kinds },
      )
      onConnectionChange = (connected) => {
        if (!connected) {
          report('lost', 'lost the coordinator; waiting for it to come back')
          return
        }
        untilRegistered(client, agentId).then(
          () => report('registered-again', `registered again with ${flags.network}`),
          () => {},
        )
      }
      const signal = await interrupted
      onConnectionChange = () => {}
      report('stopping', `stopping (${signal})`)
      return 0
    } catch (error) {
      throw asCliError(error)
    } finally {
      await closeWithin(client)
    }
  },
}

function agentSettings(
  values: Record<string, string | boolean | string[] | undefined>,
  env: Env,
): { id: string; listen?: string; advertise?: string } {
  const id = (values.id as string | undefined) ?? env('HULY_NETWORK_AGENT_ID') ??
    crypto.randomUUID()
  if (!/^[\w.:@-]{1,128}$/.test(id)) {
    throw new UsageError(`the agent id must be 1 to 128 of [A-Za-z0-9_.:@-], got "${id}"`)
  }
  if (values['no-endpoint']) {
    if (values.listen !== undefined || values.advertise !== undefined) {
      throw new UsageError('--no-endpoint excludes --listen and --advertise')
    }
    return { id }
  }
  const listen = (values.listen as string | undefined) ?? env('HULY_NETWORK_AGENT_LISTEN') ??
    '127.0.0.1:3738'
  const advertise = (values.advertise as string | undefined) ??
    env('HULY_NETWORK_AGENT_ADVERTISE')
  for (const [name, address] of [['listen', listen], ['advertise', advertise]] as const) {
    if (
      address !== undefined && !/^(tcp:\/\/)?(\[[0-9a-fA-F:]+\]|[^:/\s]+):\d{1,5}$/.test(address)
    ) {
      throw new UsageError(`--${name} must be HOST:PORT, got "${address}"`)
    }
  }
  return { id, listen, advertise: advertise === undefined ? undefined : toTcp(advertise) }
}

function toTcp(address: string): string {
  return address.includes('://') ? address : `tcp://${address}`
}

/** Resolves once the coordinator lists the agent again (the client re-registers it). */
async function untilRegistered(client: NetworkClient, agentId: string): Promise<void> {
  for (;;) {
    const records = await client.agents()
    if (records.some((record) => record.agentId === agentId)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
