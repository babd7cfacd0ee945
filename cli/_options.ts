// Flags shared by the CLI's commands, parsed with node:util parseArgs, and the
// errors that pick an exit code.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'
import type { LogLevel } from '@logtape/logtape'
import { isLogLevel, logLevels } from '../server/logging.ts'

/** Exit codes of every command. */
export const ExitCode = {
  ok: 0,
  /** The coordinator is unreachable, or the connection failed. */
  unreachable: 1,
  /** A bad flag, argument or environment value. */
  usage: 2,
  /** The network or a container answered with an error. */
  remote: 3,
} as const

/** A bad flag, argument or environment value: one line on stderr, exit code 2. */
export class UsageError extends Error {}

/** A failure to report in one line with its exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = ExitCode.unreachable) {
    super(message)
  }
}

/** Reads an environment variable (a function, so tests can pass their own). */
export type Env = (name: string) => string | undefined

/** Options of every command that talks to a coordinator. */
export interface ClientFlags {
  /** `host:port` of the coordinator. */
  network: string
  /** How long to wait for the first connection, in ms. */
  connectTimeoutMs: number
  /** Request deadline in seconds. */
  requestTimeout: number
  /** Print JSON instead of tables. */
  json: boolean
  /** This client's secret key file, for CURVE. */
  keyFile?: string
  /** The coordinator's public key, or a file holding it. */
  serverKey?: string
  /** Lowest level of the library's log records, written to stderr. */
  logLevel: LogLevel
  /** Log records as text or JSON Lines. */
  logFormat: 'text' | 'json'
  /** The socket transport. */
  transport: 'zmtp' | 'libzmq'
}

/** The parseArgs options of {@link ClientFlags}, plus `--help`. */
export const clientOptions = {
  network: { type: 'string', short: 'n' },
  'connect-timeout': { type: 'string' },
  timeout: { type: 'string' },
  key: { type: 'string' },
  'server-key': { type: 'string' },
  json: { type: 'boolean' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  transport: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig

/** The help lines of {@link clientOptions}. */
export const clientOptionsHelp = `Connection options (environment variable and default in brackets):
  -n, --network HOST:PORT   the coordinator [HULY_NETWORK_ADDRESS]
                            (127.0.0.1:$HULY_NETWORK_PORT, that is 127.0.0.1:3737)
  --connect-timeout S       give up (exit 1) when not connected after S seconds
                            [HULY_NETWORK_CONNECT_TIMEOUT] (5)
  --timeout S               request deadline in seconds [HULY_NETWORK_REQUEST_TIMEOUT] (30)
  --key FILE                this peer's secret key (from keygen): encrypt with CURVE
                            [HULY_NETWORK_KEY] (none: plain text)
  --server-key KEY|FILE     the coordinator's public key, with --key [HULY_NETWORK_SERVER_KEY]
  --json                    print JSON instead of tables
  --log-level LEVEL         library log records to stderr from LEVEL up: trace, debug, info,
                            warning, error, fatal [HULY_NETWORK_LOG_LEVEL] (warning)
  --log-format FORMAT       text, or json for JSON Lines [HULY_NETWORK_LOG_FORMAT] (text)
  --transport NAME          zmtp (ZeroMQ on Deno's TCP) or libzmq (FFI)
                            [HULY_NETWORK_TRANSPORT] (zmtp)
  -h, --help                show this help`

/** parseArgs with strict flags; its errors become {@link UsageError}s. */
export function parseCommand<T extends ParseArgsOptionsConfig>(
  args: string[],
  options: T,
  positionals: { min: number; max: number; names: string },
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  let parsed
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>
  if (values.help) return { values, positionals: parsed.positionals }
  const count = parsed.positionals.length
  if (count < positionals.min) throw new UsageError(`missing ${positionals.names}`)
  if (count > positionals.max) {
    throw new UsageError(`unexpected argument "${parsed.positionals[positionals.max]}"`)
  }
  return { values, positionals: parsed.positionals }
}

/** A number of seconds > 0 from a flag, else an environment variable, else `fallback`. */
export function seconds(
  flag: string,
  value: string | undefined,
  variable: string,
  env: Env,
  fallback: number,
): number {
  const fromEnv = value === undefined ? env(variable) : undefined
  const text = value ?? fromEnv
  if (text === undefined) return fallback
  const number = Number(text)
  if (text.trim() === '' || !Number.isFinite(number) || number <= 0) {
    const source = value === undefined ? variable : `--${flag}`
    throw new UsageError(`${source} must be a number of seconds > 0, got "${text}"`)
  }
  return number
}

/** The {@link ClientFlags} of parsed values and the environment. */
export function clientFlags(
  values: Record<string, string | boolean | string[] | undefined>,
  env: Env,
): ClientFlags {
  // Without an address, the coordinator configured on this machine (HULY_NETWORK_PORT).
  const network = (values.network as string | undefined) ?? env('HULY_NETWORK_ADDRESS') ??
    `127.0.0.1:${env('HULY_NETWORK_PORT') ?? 3737}`
  if (!/^(tcp:\/\/)?(\[[0-9a-fA-F:]+\]|[^:/\s]+):\d{1,5}$/.test(network)) {
    const source = values.network !== undefined
      ? '--network'
      : env('HULY_NETWORK_ADDRESS') !== undefined
      ? 'HULY_NETWORK_ADDRESS'
      : 'HULY_NETWORK_PORT'
    throw new UsageError(`${source} must be HOST:PORT, got "${network}"`)
  }
  const connect = seconds(
    'connect-timeout',
    values['connect-timeout'] as string | undefined,
    'HULY_NETWORK_CONNECT_TIMEOUT',
    env,
    5,
  )
  const requestTimeout = seconds(
    'timeout',
    values.timeout as string | undefined,
    'HULY_NETWORK_REQUEST_TIMEOUT',
    env,
    30,
  )
  const keyFile = (values.key as string | undefined) ?? env('HULY_NETWORK_KEY')
  const serverKey = (values['server-key'] as string | undefined) ?? env('HULY_NETWORK_SERVER_KEY')
  if ((keyFile === undefined) !== (serverKey === undefined)) {
    throw new UsageError('--key and --server-key go together')
  }
  const logLevel = (values['log-level'] as string | undefined) ??
    env('HULY_NETWORK_LOG_LEVEL') ?? 'warning'
  if (!isLogLevel(logLevel)) {
    const source = values['log-level'] !== undefined ? '--log-level' : 'HULY_NETWORK_LOG_LEVEL'
    throw new UsageError(`${source} must be one of ${logLevels.join(', ')}, got "${logLevel}"`)
  }
  const logFormat = (values['log-format'] as string | undefined) ??
    env('HULY_NETWORK_LOG_FORMAT') ?? 'text'
  if (logFormat !== 'text' && logFormat !== 'json') {
    const source = values['log-format'] !== undefined ? '--log-format' : 'HULY_NETWORK_LOG_FORMAT'
    throw new UsageError(`${source} must be text or json, got "${logFormat}"`)
  }
  const transport = (values.transport as string | undefined) ??
    env('HULY_NETWORK_TRANSPORT') ?? 'zmtp'
  if (transport !== 'zmtp' && transport !== 'libzmq') {
    const source = values.transport !== undefined ? '--transport' : 'HULY_NETWORK_TRANSPORT'
    throw new UsageError(`${source} must be zmtp or libzmq, got "${transport}"`)
  }
  return {
    transport,
    network,
    connectTimeoutMs: connect * 1000,
    requestTimeout,
    json: values.json === true,
    keyFile,
    serverKey,
    logLevel,
    logFormat,
  }
}

/** Parses a JSON argument, or reports it as a usage error. */
export function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${what} is not JSON: ${(error as Error).message}`)
  }
}
