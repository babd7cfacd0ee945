// `keygen`: a CURVE key pair in two files, the secret one readable by its owner only.
import { writeKeyPair } from '../server/keys.ts'
import { type Command, help } from './_command.ts'
import { CliError, ExitCode, parseCommand } from './_options.ts'
import { out, toJson } from './_output.ts'

/** The keygen command. */
export const keygen: Command = {
  name: 'keygen',
  summary: 'write a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub',
  usage: `Usage: huly-network keygen <name> [--force] [--json]

Writes a new CURVE key pair for a coordinator, an agent or a client: <name>.key holds
the secret key (Z85, mode 0600: keep it on that machine only) and <name>.pub the public
key (put it in the coordinator's access file). Prints the public key.
Needs --allow-write: run it as "deno task keygen <name>".

  --force       replace existing files
  --json        print {"publicKey", "secretKeyFile", "publicKeyFile"}
  -h, --help    show this help
`,
  async run(args) {
    const options = {
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    } as const
    const { values, positionals } = parseCommand(args, options, { min: 1, max: 1, names: 'name' })
    if (values.help) return help(keygen)
    const name = positionals[0]
    let publicKey
    try {
      publicKey = await writeKeyPair(name, values.force === true)
    } catch (error) {
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        throw new CliError(
          `cannot write ${name}.key: ${(error as Error).message} (run "deno task keygen")`,
          ExitCode.unreachable,
        )
      }
      throw new CliError((error as Error).message, ExitCode.usage)
    }
    out(
      values.json
        ? toJson({ publicKey, secretKeyFile: `${name}.key`, publicKeyFile: `${name}.pub` })
        : `${publicKey}  (secret key in ${name}.key, public key in ${name}.pub)`,
    )
    return ExitCode.ok
  },
}
