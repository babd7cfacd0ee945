/**
 * The coordinator's settings (`huly-network serve`, `deno task start`): flags, their
 * environment variables and embedded defaults, read into a {@link CoordinatorConfig}.
 *
 * ```
 * deno task start [--host 127.0.0.1] [--port 3737] [--alive-timeout 3]
 *                 [--unused-timeout 5] [--request-timeout 30] [--ping-interval 1]
 *                 [--log-level info] [--log-format text] [--access FILE] [--insecure]
 *                 [--rate-limit N] [--rate-burst N] [--max-in-flight N]
 *                 [--http-host 127.0.0.1] [--http-port 3780] [--no-http]
 *                 [--max-message-bytes N] [--max-sessions N] [--hellos-per-second N]
 *                 [--max-hello-bytes N] [--http-max-connections N] [--http-header-timeout S]
 *                 [--http-idle-timeout S] [--http-stream-bytes N]
 * ```
 *
 * Every flag has an environment variable, listed in {@link coordinatorEnvironment}.
 * A bad value is a {@link CoordinatorUsageError}.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import type { LogLevel } from '@logtape/logtape'
import { isLogLevel, logLevels } from '../server/logging.ts'
import type { RpcLimits, Transport } from '../rpc/mod.ts'

/** The environment variable of each coordinator flag. */
export const coordinatorEnvironment = {
  host: 'HULY_NETWORK_HOST',
  port: 'HULY_NETWORK_PORT',
  'ping-interval': 'HULY_NETWORK_PING_INTERVAL',
  'alive-timeout': 'HULY_NETWORK_ALIVE_TIMEOUT',
  'unused-timeout': 'HULY_NETWORK_UNUSED_TIMEOUT',
  'request-timeout': 'HULY_NETWORK_REQUEST_TIMEOUT',
  'log-level': 'HULY_NETWORK_LOG_LEVEL',
  'log-format': 'HULY_NETWORK_LOG_FORMAT',
  access: 'HULY_NETWORK_ACCESS',
  insecure: 'HULY_NETWORK_INSECURE',
  'rate-limit': 'HULY_NETWORK_RATE_LIMIT',
  'rate-burst': 'HULY_NETWORK_RATE_BURST',
  'max-in-flight': 'HULY_NETWORK_MAX_IN_FLIGHT',
  'http-host': 'HULY_NETWORK_HTTP_HOST',
  'http-port': 'HULY_NETWORK_HTTP_PORT',
  http: 'HULY_NETWORK_HTTP',
  transport: 'HULY_NETWORK_TRANSPORT',
  'max-message-bytes': 'HULY_NETWORK_MAX_MESSAGE_BYTES',
  'max-sessions': 'HULY_NETWORK_MAX_SESSIONS',
  'hellos-per-second': 'HULY_NETWORK_HELLOS_PER_SECOND',
  'max-hello-bytes': 'HULY_NETWORK_MAX_HELLO_BYTES',
  'http-max-connections': 'HULY_NETWORK_HTTP_MAX_CONNECTIONS',
  'http-header-timeout': 'HULY_NETWORK_HTTP_HEADER_TIMEOUT',
  'http-idle-timeout': 'HULY_NETWORK_HTTP_IDLE_TIMEOUT',
  'http-stream-bytes': 'HULY_NETWORK_HTTP_STREAM_BYTES',
} as const

type Flag = keyof typeof coordinatorEnvironment

/** The embedded defaults: the coordinator needs no file and no other service. */
export const coordinatorDefaults: Readonly<Record<Flag, string>> = {
  host: '127.0.0.1',
  port: '3737',
  'ping-interval': '1',
  'alive-timeout': '3',
  'unused-timeout': '5',
  'request-timeout': '30',
  'log-level': 'info',
  'log-format': 'text',
  access: '',
  insecure: 'false',
  'rate-limit': '0',
  'rate-burst': '0',
  'max-in-flight': '1024',
  'http-host': '127.0.0.1',
  'http-port': '3780',
  http: 'on',
  transport: 'zmtp',
  'max-message-bytes': String(16 * 1024 * 1024),
  'max-sessions': '10000',
  'hellos-per-second': '5',
  'max-hello-bytes': String(16 * 1024),
  'http-max-connections': '500',
  'http-header-timeout': '10',
  'http-idle-timeout': '60',
  'http-stream-bytes': String(4 * 1024 * 1024),
}

/** The help text of the coordinator. */
export const coordinatorUsage = `Usage: deno task start [options]
       deno task net serve [options]      (compiled: huly-network serve [options])

Starts the Huly Network coordinator. It prints "http endpoint on http://HOST:PORT"
(unless --no-http), then "listening on tcp://HOST:PORT" once it accepts
connections; SIGINT or SIGTERM stop it gracefully (exit 0): requests being served
get 1 s to finish, new ones are left for the next coordinator, and every peer is
told "restarting" (SIGTERM) or "shutting down" (SIGINT), keeps its requests within
their deadlines and reconnects.

Options (environment variable and default in brackets):
  --host HOST           address to bind [HULY_NETWORK_HOST] (127.0.0.1; 0.0.0.0 for all)
  --port PORT           port to bind, 0 for any free one [HULY_NETWORK_PORT] (3737)
  --ping-interval S     liveness check period in seconds [HULY_NETWORK_PING_INTERVAL] (1)
  --alive-timeout S     a silent peer is dead after S seconds [HULY_NETWORK_ALIVE_TIMEOUT] (3)
  --unused-timeout S    an unreferenced container stops after S seconds
                        [HULY_NETWORK_UNUSED_TIMEOUT] (5)
  --request-timeout S   default request deadline in seconds [HULY_NETWORK_REQUEST_TIMEOUT] (30)
  --log-level LEVEL     trace, debug, info, warning, error, fatal [HULY_NETWORK_LOG_LEVEL] (info)
  --log-format FORMAT   text, or json for one JSON object per line [HULY_NETWORK_LOG_FORMAT] (text)
  --access FILE         keys and ACLs (JSON, see docs/security.md): CURVE on,
                        only listed keys may connect; SIGHUP reloads it [HULY_NETWORK_ACCESS]
  --insecure            allow a non-loopback --host without --access [HULY_NETWORK_INSECURE]
  --rate-limit N        requests/s each peer may send, 0 for no limit [HULY_NETWORK_RATE_LIMIT] (0)
  --rate-burst N        requests a peer may send at once [HULY_NETWORK_RATE_BURST] (the rate)
  --max-in-flight N     requests of one peer served at once; more wait ("busy")
                        [HULY_NETWORK_MAX_IN_FLIGHT] (1024)
  --http-host HOST      address of the HTTP endpoint: dashboard, /metrics, /healthz, /readyz,
                        /api/state [HULY_NETWORK_HTTP_HOST] (127.0.0.1)
  --http-port PORT      its port, 0 for any free one [HULY_NETWORK_HTTP_PORT] (3780)
  --no-http             no HTTP endpoint, no port opened [HULY_NETWORK_HTTP=off] (on)
  --transport NAME      zmtp (ZeroMQ spoken on Deno's TCP) or libzmq (through FFI); peers
                        on either can connect [HULY_NETWORK_TRANSPORT] (zmtp)

Limits against hostile peers (docs/limits.md):
  --max-message-bytes N   bytes of one message over all its frames
                          [HULY_NETWORK_MAX_MESSAGE_BYTES] (16777216)
  --max-sessions N        sessions served at once [HULY_NETWORK_MAX_SESSIONS] (10000)
  --hellos-per-second N   handshakes/s per connection (per key: 10 times it)
                          [HULY_NETWORK_HELLOS_PER_SECOND] (5)
  --max-hello-bytes N     bytes of a handshake, credentials included
                          [HULY_NETWORK_MAX_HELLO_BYTES] (16384)
  --http-max-connections N  HTTP connections open at once, each costs a file descriptor
                          [HULY_NETWORK_HTTP_MAX_CONNECTIONS] (500)
  --http-header-timeout S a connection's request headers must arrive within S seconds
                          [HULY_NETWORK_HTTP_HEADER_TIMEOUT] (10)
  --http-idle-timeout S   a response to a peer that reads nothing for S seconds is cut
                          [HULY_NETWORK_HTTP_IDLE_TIMEOUT] (60)
  --http-stream-bytes N   bytes a live stream (/api/events) may hold unread
                          [HULY_NETWORK_HTTP_STREAM_BYTES] (4194304)
  -h, --help            show this help

Exit codes: 0 stopped by a signal or --help, 1 cannot listen, 2 bad flag or value
(also: a non-loopback --host without --access or --insecure, a bad access file).
`

/** The coordinator's configuration, read from flags, then environment, then defaults. */
export interface CoordinatorConfig {
  /** Address to bind. */
  host: string
  /** Port to bind (0: any free one). */
  port: number
  /** Seconds between liveness checks. */
  pingInterval: number
  /** Seconds of silence after which a peer is dead. */
  aliveTimeout: number
  /** Seconds after its last release that an unreferenced container stops. */
  unusedContainerTimeout: number
  /** Default request deadline in seconds. */
  requestTimeout: number
  /** Lowest level logged. */
  logLevel: LogLevel
  /** Human-readable text, or JSON Lines. */
  logFormat: 'text' | 'json'
  /** The access file (keys and ACLs), if any. */
  access?: string
  /** Whether a non-loopback host may be bound without keys. */
  insecure: boolean
  /** Requests per second per peer; 0 for no limit. */
  rateLimit: number
  /** Requests a peer may send at once (0: the rate). */
  rateBurst: number
  /** Requests of one peer served at once. */
  maxInFlight: number
  /** Where the HTTP endpoint listens and its limits; `undefined` when it is off. */
  http: HttpConfig | undefined
  /** Limits of the rpc server against hostile peers. */
  limits: Required<RpcLimits>
  /** The socket transport. */
  transport: Transport
}

/** Where the coordinator's HTTP endpoint listens, and its limits. */
export interface HttpConfig {
  /** Address to bind. */
  host: string
  /** Port to bind (0: any free one). */
  port: number
  /** Connections open at once. */
  maxConnections: number
  /** Milliseconds a connection has to send its request headers. */
  headerTimeoutMs: number
  /** Milliseconds a response waits on a peer that reads nothing. */
  idleTimeoutMs: number
  /** Bytes a live stream may hold unread. */
  maxStreamBytes: number
}

/** A bad flag or environment value: the process exits with code 2. */
export class CoordinatorUsageError extends Error {
  /** Sets the name, so the message reads as a usage error. */
  constructor(message: string) {
    super(message)
    this.name = 'CoordinatorUsageError'
  }
}

/** The flags `parseArgs` reads: one string option per setting, but two switches. */
const flagOptions = {
  ...Object.fromEntries(
    Object.keys(coordinatorEnvironment)
      .filter((flag) => flag !== 'http' && flag !== 'insecure')
      .map((flag) => [flag, { type: 'string' as const }]),
  ),
  insecure: { type: 'boolean' as const },
  'no-http': { type: 'boolean' as const },
  help: { type: 'boolean' as const, short: 'h' },
}

/**
 * Reads the configuration from `args` and `env` (flags win). Returns `undefined`
 * for `--help`; throws {@link CoordinatorUsageError} on bad input.
 */
export function readCoordinatorConfig(
  args: string[],
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): CoordinatorConfig | undefined {
  let parsed
  try {
    parsed = parseArgs({
      args,
      options: flagOptions,
      strict: true,
      allowPositionals: false,
    })
  } catch (error) {
    throw new CoordinatorUsageError((error as Error).message)
  }
  if (parsed.values.help) return undefined
  const { insecure, ...strings } = parsed.values
  const flags = strings as Partial<Record<Flag, string>>
  if (parsed.values['no-http']) flags.http = 'off'
  if (insecure) flags.insecure = 'true'
  /** The text of a setting and where it came from, for the error message. */
  const setting = (flag: Flag): { text: string; source: string } => {
    if (flags[flag] !== undefined) return { text: flags[flag], source: `--${flag}` }
    const name = coordinatorEnvironment[flag]
    const fromEnv = env(name)
    if (fromEnv !== undefined) return { text: fromEnv, source: name }
    return { text: coordinatorDefaults[flag], source: `--${flag}` }
  }
  const seconds = (flag: Flag): number => {
    const { text, source } = setting(flag)
    const number = Number(text)
    if (text.trim() === '' || !Number.isFinite(number) || number <= 0) {
      throw new CoordinatorUsageError(`${source} must be a number of seconds > 0, got "${text}"`)
    }
    return number
  }
  const portOf = (flag: 'port' | 'http-port'): number => {
    const { text, source } = setting(flag)
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
      throw new CoordinatorUsageError(`${source} must be an integer from 0 to 65535, got "${text}"`)
    }
    return Number(text)
  }
  const hostOf = (flag: 'host' | 'http-host'): string => {
    const { text, source } = setting(flag)
    if (!/^[\w.\-:*]+$/.test(text)) {
      throw new CoordinatorUsageError(`${source} is not an address: "${text}"`)
    }
    return text
  }
  const http = setting('http')
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(http.text)) {
    throw new CoordinatorUsageError(`${http.source} must be on or off, got "${http.text}"`)
  }
  const httpOn = ['on', 'true', '1'].includes(http.text)
  const level = setting('log-level')
  if (!isLogLevel(level.text)) {
    throw new CoordinatorUsageError(
      `${level.source} must be one of ${logLevels.join(', ')}, got "${level.text}"`,
    )
  }
  const format = setting('log-format')
  if (format.text !== 'text' && format.text !== 'json') {
    throw new CoordinatorUsageError(`${format.source} must be text or json, got "${format.text}"`)
  }
  const count = (flag: Flag, min: number): number => {
    const { text, source } = setting(flag)
    if (!/^\d{1,9}$/.test(text) || Number(text) < min) {
      throw new CoordinatorUsageError(`${source} must be an integer >= ${min}, got "${text}"`)
    }
    return Number(text)
  }
  const insecureSetting = setting('insecure')
  if (!['true', 'false', '1', '0', ''].includes(insecureSetting.text)) {
    throw new CoordinatorUsageError(
      `${insecureSetting.source} must be true or false, got "${insecureSetting.text}"`,
    )
  }
  const access = setting('access').text
  const transport = setting('transport')
  if (transport.text !== 'zmtp' && transport.text !== 'libzmq') {
    throw new CoordinatorUsageError(
      `${transport.source} must be zmtp or libzmq, got "${transport.text}"`,
    )
  }
  const config: CoordinatorConfig = {
    host: hostOf('host'),
    port: portOf('port'),
    pingInterval: seconds('ping-interval'),
    aliveTimeout: seconds('alive-timeout'),
    unusedContainerTimeout: seconds('unused-timeout'),
    requestTimeout: seconds('request-timeout'),
    logLevel: level.text,
    logFormat: format.text,
    access: access === '' ? undefined : access,
    insecure: insecureSetting.text === 'true' || insecureSetting.text === '1',
    rateLimit: count('rate-limit', 0),
    rateBurst: count('rate-burst', 0),
    maxInFlight: count('max-in-flight', 1),
    http: httpOn
      ? {
        host: hostOf('http-host'),
        port: portOf('http-port'),
        maxConnections: count('http-max-connections', 1),
        headerTimeoutMs: seconds('http-header-timeout') * 1000,
        idleTimeoutMs: seconds('http-idle-timeout') * 1000,
        maxStreamBytes: count('http-stream-bytes', 1024),
      }
      : undefined,
    limits: {
      maxMessageBytes: count('max-message-bytes', 1024),
      maxSessions: count('max-sessions', 1),
      hellosPerSecond: count('hellos-per-second', 1),
      maxHelloBytes: count('max-hello-bytes', 256),
    },
    transport: transport.text,
  }
  if (config.access === undefined && !config.insecure && !isLoopback(config.host)) {
    throw new CoordinatorUsageError(
      `${
        setting('host').source
      } ${config.host} is not a loopback address: without keys (--access) anyone who reaches it may do anything; give --access FILE, or --insecure to accept that`,
    )
  }
  if (config.aliveTimeout <= config.pingInterval) {
    throw new CoordinatorUsageError(
      `the alive timeout (${config.aliveTimeout} s) must be longer than the ping interval (${config.pingInterval} s)`,
    )
  }
  return config
}

/** Whether `host` is reachable from this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(host)
}
