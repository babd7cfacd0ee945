/**
 * The coordinator process (`deno task start`): a {@link NetworkServer} with the
 * embedded defaults, configured by flags or environment variables.
 *
 * ```
 * deno task start [--host 127.0.0.1] [--port 3737] [--alive-timeout 3]
 *                 [--unused-timeout 5] [--request-timeout 30] [--ping-interval 1]
 *                 [--log-level info]
 * ```
 *
 * Every flag has an environment variable: `HULY_NETWORK_HOST`, `HULY_NETWORK_PORT`,
 * `HULY_NETWORK_ALIVE_TIMEOUT`, `HULY_NETWORK_UNUSED_TIMEOUT`,
 * `HULY_NETWORK_REQUEST_TIMEOUT`, `HULY_NETWORK_PING_INTERVAL`, `HULY_NETWORK_LOG_LEVEL`.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { configure, getConsoleSink, getLogger, type LogLevel } from '@logtape/logtape'
import { NetworkImpl, TickManagerImpl } from '../core/mod.ts'
import { NetworkServer } from './network_server.ts'

const logger = getLogger(['huly-network', 'server', 'main'])

const usage = `Usage: deno task start [options]

Starts the Huly Network coordinator.

Options (environment variable in brackets):
  --host HOST             address to bind [HULY_NETWORK_HOST] (127.0.0.1)
  --port PORT             port to bind, 0 for any free one [HULY_NETWORK_PORT] (3737)
  --ping-interval S       liveness check period in seconds [HULY_NETWORK_PING_INTERVAL] (1)
  --alive-timeout S       a silent peer is dead after S seconds [HULY_NETWORK_ALIVE_TIMEOUT] (3)
  --unused-timeout S      an unreferenced container stops after S seconds [HULY_NETWORK_UNUSED_TIMEOUT] (5)
  --request-timeout S     default request deadline in seconds [HULY_NETWORK_REQUEST_TIMEOUT] (30)
  --log-level LEVEL       trace, debug, info, warning, error [HULY_NETWORK_LOG_LEVEL] (info)
  -h, --help              show this help
`

/** Thrown for a bad flag or environment value; the process exits with code 2. */
class UsageError extends Error {}

interface Config {
  host: string
  port: number
  pingInterval: number
  aliveTimeout: number
  unusedContainerTimeout: number
  requestTimeout: number
  logLevel: LogLevel
}

function readConfig(args: string[]): Config | undefined {
  let parsed
  try {
    parsed = parseArgs({
      args,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'ping-interval': { type: 'string' },
        'alive-timeout': { type: 'string' },
        'unused-timeout': { type: 'string' },
        'request-timeout': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (parsed.values.help) return undefined
  const value = (flag: string, env: string): string | undefined =>
    (parsed.values as Record<string, string | undefined>)[flag] ?? Deno.env.get(env)
  const seconds = (flag: string, env: string, fallback: number): number => {
    const text = value(flag, env)
    if (text === undefined) return fallback
    const number = Number(text)
    if (text.trim() === '' || !Number.isFinite(number) || number <= 0) {
      throw new UsageError(`--${flag} must be a number of seconds > 0, got "${text}"`)
    }
    return number
  }
  const portText = value('port', 'HULY_NETWORK_PORT') ?? '3737'
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got "${portText}"`)
  }
  const host = value('host', 'HULY_NETWORK_HOST') ?? '127.0.0.1'
  if (!/^[\w.\-:*]+$/.test(host)) throw new UsageError(`--host is not an address: "${host}"`)
  const logLevel = (value('log-level', 'HULY_NETWORK_LOG_LEVEL') ?? 'info') as LogLevel
  if (!['trace', 'debug', 'info', 'warning', 'error', 'fatal'].includes(logLevel)) {
    throw new UsageError(
      `--log-level must be trace, debug, info, warning or error, got "${logLevel}"`,
    )
  }
  return {
    host,
    port,
    pingInterval: seconds('ping-interval', 'HULY_NETWORK_PING_INTERVAL', 1),
    aliveTimeout: seconds('alive-timeout', 'HULY_NETWORK_ALIVE_TIMEOUT', 3),
    unusedContainerTimeout: seconds('unused-timeout', 'HULY_NETWORK_UNUSED_TIMEOUT', 5),
    requestTimeout: seconds('request-timeout', 'HULY_NETWORK_REQUEST_TIMEOUT', 30),
    logLevel,
  }
}

function write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text)
  for (let offset = 0; offset < bytes.length;) offset += stream.writeSync(bytes.subarray(offset))
}

async function main(args: string[]): Promise<number> {
  let config
  try {
    config = readConfig(args)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    write(Deno.stderr, `huly-network: ${error.message}\n\n${usage}`)
    return 2
  }
  if (config === undefined) {
    write(Deno.stdout, usage)
    return 0
  }
  await configure({
    sinks: { console: getConsoleSink() },
    loggers: [
      { category: ['huly-network'], lowestLevel: config.logLevel, sinks: ['console'] },
      { category: ['logtape', 'meta'], lowestLevel: 'warning', sinks: ['console'] },
    ],
  })
  const clock = new TickManagerImpl(20)
  clock.start()
  const { pingInterval, aliveTimeout, unusedContainerTimeout, requestTimeout } = config
  const network = new NetworkImpl(clock, {
    timeouts: { pingInterval, aliveTimeout, unusedContainerTimeout, requestTimeout },
  })
  let server
  try {
    server = new NetworkServer(network, clock, { host: config.host, port: config.port })
  } catch (error) {
    write(
      Deno.stderr,
      `huly-network: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}\n`,
    )
    clock.stop()
    return 1
  }
  write(Deno.stdout, `huly-network coordinator listening on ${server.endpoint}\n`)
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    Deno.addSignalListener(signal, () => stop(signal))
  }
  const signal = await stopped
  logger.info('{signal}: shutting down', { signal })
  const deadline = setTimeout(() => Deno.exit(0), 2000)
  await server.close()
  await network.close()
  clock.stop()
  clearTimeout(deadline)
  return 0
}

if (import.meta.main) Deno.exit(await main(Deno.args))
