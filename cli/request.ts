// `request <uuid> <operation> [json]`: one request to a live container, or, with
// --kind, to the container got (started again if it stopped) for the request.
import type { NetworkClient } from '../client/mod.ts'
import { ContainerNotFoundError } from '../core/mod.ts'
import { type Command, help } from './_command.ts'
import { withClient } from './_client.ts'
import {
  clientFlags,
  clientOptions,
  clientOptionsHelp,
  CliError,
  ExitCode,
  parseCommand,
  parseJson,
} from './_options.ts'
import { out, toJson } from './_output.ts'

/** The request command. */
export const request: Command = {
  name: 'request',
  summary: 'send one request to a container: <uuid> <operation> [json] [--kind K]',
  usage: `Usage: huly-network request <uuid> <operation> [json] [--kind KIND] [options]

Sends <operation> with the JSON value [json] (null when absent) to the live container
<uuid> through the coordinator and prints the answer as one line of JSON (bigint as a
decimal string, bytes as base64). Exit code 3 when the container is not live or answers
with an error.

  -k, --kind KIND           get <uuid> as a container of KIND for the request (it is
                            started again if it stopped), and release it after

${clientOptionsHelp}
`,
  async run(args, env) {
    const options = { ...clientOptions, kind: { type: 'string', short: 'k' } } as const
    const { values, positionals } = parseCommand(args, options, {
      min: 2,
      max: 3,
      names: 'the container uuid and the operation',
    })
    if (values.help) return help(request)
    const flags = clientFlags(values, env)
    const [uuid, operation, json] = positionals
    const data = json === undefined ? null : parseJson('the request data', json)
    const kind = values.kind as string | undefined
    const answer = await withClient(
      flags,
      (client) => send(client, kind, uuid, operation, data),
    )
    out(toJson(answer))
    return 0
  },
}

async function send(
  client: NetworkClient,
  kind: string | undefined,
  uuid: string,
  operation: string,
  data: unknown,
): Promise<unknown> {
  if (kind !== undefined) {
    await using reference = await client.get(kind, { uuid })
    return await reference.request(operation, data)
  }
  try {
    return await client.request(uuid, operation, data)
  } catch (error) {
    if (!(error instanceof ContainerNotFoundError)) throw error
    throw new CliError(
      `${error.name}: ${error.message} (a container nobody holds stops after the unused timeout: hold it with "get <kind> --uuid ${uuid} --watch", or pass --kind to start it again)`,
      ExitCode.remote,
    )
  }
}
