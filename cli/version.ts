// `version`: the package, the runtime and the wire protocol.
import denoJson from '../deno.json' with { type: 'json' }
import { PROTOCOL_VERSION } from '../rpc/mod.ts'
import { type Command, help } from './_command.ts'
import { parseCommand } from './_options.ts'
import { out, toJson } from './_output.ts'

/** The version command. */
export const version: Command = {
  name: 'version',
  summary: 'print the versions of huly-network, Deno and the wire protocol',
  usage: `Usage: huly-network version [--json]

Prints the version of huly-network, of the Deno runtime and of the wire protocol.

  --json        print a JSON object
  -h, --help    show this help
`,
  run(args) {
    const options = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const
    const { values } = parseCommand(args, options, { min: 0, max: 0, names: '' })
    if (values.help) return Promise.resolve(help(version))
    const versions = {
      network: denoJson.version,
      deno: Deno.version.deno,
      protocol: PROTOCOL_VERSION,
    }
    out(
      values.json
        ? toJson(versions)
        : `huly-network ${versions.network} (deno ${versions.deno}, protocol ${versions.protocol})`,
    )
    return Promise.resolve(0)
  },
}
