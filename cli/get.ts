// `get <kind> …`: reuse or start a container; with --watch, hold it and print its events.
import type { ContainerQuery } from '../client/mod.ts'
import type { NetworkEvent } from '../core/mod.ts'
import { type Command, help } from './_command.ts'
import { interruptedAfterSaying, reportConnection, withClient } from './_client.ts'
import {
  clientFlags,
  clientOptions,
  clientOptionsHelp,
  parseCommand,
  parseJson,
  UsageError,
} from './_options.ts'
import { containerTable, err, out, toJson } from './_output.ts'

const RELEASE_HINT =
  'a container nobody holds stops after the unused timeout (5 s by default): hold it with --watch'

/**
 * Says on stderr when the held container is removed (that it is held again is said
 * once the connection is reopened, when its events reach the watch again).
 */
function reportRemoval(uuid: string, event: NetworkEvent): void {
  for (const { type, container } of event.containers) {
    if (container.uuid === uuid && type === 'removed') {
      err(`${uuid} was removed from agent ${container.agentId}; getting it again`)
    }
  }
}

/** The get command. */
export const get: Command = {
  name: 'get',
  summary: 'get (reuse or start) a container: <kind> [--uuid U] [--label L …] [--watch]',
  usage: `Usage: huly-network get <kind> [--uuid UUID] [--label LABEL …] [--extra JSON] [--watch]

Gets a container of <kind>: the one with --uuid (started if it is not live), else one
carrying every --label (started with them if there is none), else any of the kind.
Prints its record. Without --watch the reference is released on exit, and the container
stops after the coordinator's unused timeout unless someone else holds it.

  -u, --uuid UUID           the container's uuid
  -l, --label LABEL         a label it must carry (repeat for several)
  --extra JSON              start parameters (a JSON object) for a new container
  -w, --watch               hold the reference, connect, and print every event the
                            container pushes (one line each) until SIGINT or SIGTERM;
                            says on stderr when the coordinator is lost or back, and
                            when the container is removed and got again
${clientOptionsHelp}
`,
  async run(args, env) {
    const options = {
      ...clientOptions,
      uuid: { type: 'string', short: 'u' },
      label: { type: 'string', short: 'l', multiple: true },
      extra: { type: 'string' },
      watch: { type: 'boolean', short: 'w' },
    } as const
    const { values, positionals } = parseCommand(args, options, {
      min: 1,
      max: 1,
      names: 'the container kind',
    })
    if (values.help) return help(get)
    const flags = clientFlags(values, env)
    const query: ContainerQuery = {}
    if (values.uuid !== undefined) query.uuid = values.uuid as string
    if (values.label !== undefined) query.labels = values.label as string[]
    if (values.extra !== undefined) {
      const extra = parseJson('--extra', values.extra as string)
      if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
        throw new UsageError('--extra must be a JSON object')
      }
      query.extra = extra as Record<string, unknown>
    }
    return await withClient(flags, async (client) => {
      const reference = await client.get(positionals[0], query)
      out(flags.json ? toJson(reference.record) : containerTable([reference.record]))
      if (!values.watch) {
        err(`released ${reference.uuid} on exit; ${RELEASE_HINT}`)
        return 0
      }
      client.onUpdate((event) => reportRemoval(reference.uuid, event))
      await reference.connect({
        on: (data) =>
          out(flags.json ? toJson({ uuid: reference.uuid, event: data }) : `event ${toJson(data)}`),
        onMoved: (record) => err(`holding ${record.uuid} again, on agent ${record.agentId}`),
      })
      await interruptedAfterSaying(
        `holding ${reference.uuid}; printing its events until interrupted`,
      )
      return 0
    }, values.watch ? reportConnection(flags) : undefined)
  },
}
