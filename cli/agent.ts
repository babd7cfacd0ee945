// `agent`: a demo agent hosting `echo` and `counter` containers. It reports when it
// loses the coordinator and when it is registered again.
import type { NetworkClient, ServedAgent } from '../client/mod.ts'
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
  seconds,
  UsageError,
} from './_options.ts'
import { out, toJson } from './_output.ts'

/** The agent command. */
export const agent: Command = {
  name: 'agent',
  summary: 'run a demo agent hosting the kinds echo and counter',
  usage: `Usage: huly-network agent [--id ID] [--listen HOST:PORT | --no-endpoint] [options]

Runs an agent with two kinds of container until a signal. SIGTERM (what deployments
send) drains it: its containers move to other agents of their kind (a counter hands
its value over), then it exits 0; a second signal stops it at once. SIGINT stops it
at once (its containers end with it).
  echo     "echo" answers its data; "burst" {"n": N} pushes N events {"i": …} to every
           connected client (for load tests)
  counter  "get", "increment" {"by": N}, "reset"; connected clients get {"value": …};
           starts at extra.start (0)

It prints one line when registered, when it loses the coordinator (it keeps its
containers and waits for the coordinator to come back), when registered again, and
when it drains and when the drain ended.

Agent options (environment variable and default in brackets):
  --id ID                   the agent's id [HULY_NETWORK_AGENT_ID] (a random uuid)
  --listen HOST:PORT        bind the agent's own endpoint, so clients reach its containers
                            in one hop; port 0 picks a free one
                            [HULY_NETWORK_AGENT_LISTEN] (127.0.0.1:3738)
  --advertise HOST:PORT     the address clients should use for that endpoint
                            [HULY_NETWORK_AGENT_ADVERTISE] (the bound one)
  --no-endpoint             bind nothing: containers are reached through the coordinator
  --drain-deadline S        how long a drain may take, in seconds
                            [HULY_NETWORK_DRAIN_DEADLINE] (30)
${clientOptionsHelp}
`,
  async run(args, env) {
    const options = {
      ...clientOptions,
      id: { type: 'string' },
      listen: { type: 'string' },
      advertise: { type: 'string' },
      'no-endpoint': { type: 'boolean' },
      'drain-deadline': { type: 'string' },
    } as const
    const { values } = parseCommand(args, options, { min: 0, max: 0, names: '' })
    if (values.help) return help(agent)
    const flags = clientFlags(values, env)
    const settings = agentSettings(values, env)
    const drainDeadline = seconds(
      'drain-deadline',
      values['drain-deadline'] as string | undefined,
      'HULY_NETWORK_DRAIN_DEADLINE',
      env,
      30,
    )
    const report = (event: string, text: string, fields: Record<string, unknown> = {}) =>
      out(flags.json ? toJson({ event, agentId, ...fields }) : `agent ${agentId} ${text}`)
    const agentId = settings.id
    let onConnectionChange: (connected: boolean) => void = () => {}
    const client = await connect(flags, (connected) => onConnectionChange(connected))
    try {
      let endpoint: string | undefined
      let served: ServedAgent | undefined
      if (settings.listen === undefined) {
        await client.register(new AgentImpl(agentId as AgentUuid, demoKinds))
      } else {
        served = await client.serveAgent(settings.listen, demoKinds, {
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
      let reachable = true
      onConnectionChange = (connected) => {
        reachable = connected
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
      if (signal !== 'SIGTERM' || !reachable) {
        onConnectionChange = () => {}
        const why = reachable ? '' : ': the coordinator is unreachable, so nothing can move'
        report('stopping', `stopping (${signal})${why}`)
        return 0
      }
      report('draining', `draining (${signal}), deadline ${drainDeadline} s`)
      const options = { deadlineMs: drainDeadline * 1000 }
      const result = await untilSecondSignal(
        served?.drain(options) ?? client.drain(agentId, options),
      )
      onConnectionChange = () => {}
      if (result === undefined) report('stopping', 'stopping at once (a second signal)')
      else {
        const { moved, left, failed, failedOver, durationMs, complete, reason } = result
        const summary = `${moved} moved, ${failedOver} failed over, ${left} left, ${failed} failed`
        report(
          'drained',
          complete
            ? `drained in ${durationMs} ms: ${summary}`
            : `drain ended after ${durationMs} ms: ${summary}: ${reason}`,
          { moved, left, failed, failedOver, durationMs, complete, reason },
        )
      }
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

/** The drain's result, or undefined when SIGINT or SIGTERM comes again first. */
async function untilSecondSignal<T>(work: Promise<T>): Promise<T | undefined> {
  const { promise: again, resolve } = Promise.withResolvers<undefined>()
  const listener = () => resolve(undefined)
  const signals = ['SIGINT', 'SIGTERM'] as const
  for (const signal of signals) Deno.addSignalListener(signal, listener)
  try {
    return await Promise.race([work, again])
  } catch (error) {
    // The drain could not be asked (the coordinator is gone): the agent stops as before.
    out(`drain failed: ${error instanceof Error ? error.message : String(error)}`)
    return undefined
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, listener)
  }
}

/** Resolves once the coordinator lists the agent again (the client re-registers it). */
async function untilRegistered(client: NetworkClient, agentId: string): Promise<void> {
  for (;;) {
    const records = await client.agents()
    if (records.some((record) => record.agentId === agentId)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
