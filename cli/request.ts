// `request <uuid> <operation> [json]`: one request to a live container.
import { type Command, help } from './_command.ts'
import { withClient } from './_client.ts'
import {
  clientFlags,
  clientOptions,
  clientOptionsHelp,
  parseCommand,
  parseJson,
} from './_options.ts'
import { out, toJson } from './_output.ts'

/** The request command. */
export const request: Command = {
  name: 'request',
  summary: 'send one request to a live container: <uuid> <operation> [json]',
  usage: `Usage: huly-network request <uuid> <operation> [json] [options]

Sends <operation> with the JSON value [json] (null when absent) to the live container
<uuid> through the coordinator and prints the answer as JSON (bigint as a decimal
string, bytes as base64). Exit code 3 when the container is not live or answers with
an error.

${clientOptionsHelp}
`,
  async run(args, env) {
    const { values, positionals } = parseCommand(args, clientOptions, {
      min: 2,
      max: 3,
      names: 'the container uuid and the operation',
    })
    if (values.help) return help(request)
    const flags = clientFlags(values, env)
    const [uuid, operation, json] = positionals
    const data = json === undefined ? null : parseJson('the request data', json)
    const answer = await withClient(flags, (client) => client.request(uuid, operation, data))
    out(toJson(answer, flags.json ? undefined : 2))
    return 0
  },
}
