// `serve`: the coordinator process, exactly what `deno task start` runs: reads its
// settings (cli/serve_config.ts), starts a coordinator and stops it gracefully on
// SIGINT or SIGTERM.
import { getLogger } from '@logtape/logtape'
import { audit } from '../security/access.ts'
import { type AccessConfig, readAccessFile } from '../server/keys.ts'
import { configureLogging } from '../server/logging.ts'
import type { NetworkServer } from '../server/network_server.ts'
import { type Coordinator, startCoordinator } from '../server/coordinator.ts'
import type { Command } from './_command.ts'
import { coordinatorUsage, CoordinatorUsageError, readCoordinatorConfig } from './serve_config.ts'

const logger = getLogger(['huly-network', 'server', 'main'])

/** The coordinator command. */
export const serve: Command = {
  name: 'serve',
  summary: 'run the coordinator (what `deno task start` runs)',
  usage: coordinatorUsage,
  run: (args, env) => runCoordinator(args, 'huly-network serve', env),
}

function write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text)
  for (let offset = 0; offset < bytes.length;) offset += stream.writeSync(bytes.subarray(offset))
}

/** SIGHUP: reads the access file again; a bad file keeps the current list. */
async function reloadAccess(
  server: NetworkServer,
  path: string,
  current: AccessConfig,
): Promise<void> {
  let next
  try {
    next = await readAccessFile(path)
  } catch (error) {
    logger.error('SIGHUP: the access list is unchanged: {message}', {
      message: (error as Error).message,
    })
    return
  }
  if (next.secretKey !== current.secretKey) {
    logger.warn('SIGHUP: the coordinator key changed in {path}; restart to use it', { path })
  }
  server.setPeers(next.peers)
  audit('reloaded', { path, peers: next.peers.map((peer) => `${peer.name} (${peer.role})`) })
}

/** How long requests being served may take to finish when the coordinator stops. */
const SHUTDOWN_GRACE_MS = 1000

/**
 * Runs the coordinator until SIGINT or SIGTERM; resolves with the exit code (0
 * stopped, 1 cannot listen, 2 bad input). `program` names it in messages.
 */
export async function runCoordinator(
  args: string[],
  program = 'huly-network',
  env?: (name: string) => string | undefined,
): Promise<number> {
  let config
  try {
    config = readCoordinatorConfig(args, env)
  } catch (error) {
    if (!(error instanceof CoordinatorUsageError)) throw error
    write(Deno.stderr, `${program}: ${error.message} (see --help)\n`)
    return 2
  }
  if (config === undefined) {
    write(Deno.stdout, coordinatorUsage)
    return 0
  }
  let access: AccessConfig | undefined
  if (config.access !== undefined) {
    try {
      access = await readAccessFile(config.access)
    } catch (error) {
      write(Deno.stderr, `${program}: ${(error as Error).message}\n`)
      return 2
    }
  }
  await configureLogging(config.logLevel, config.logFormat)
  if (access === undefined) {
    logger.warn(
      'no keys (--access): traffic is not encrypted and every peer may do anything; bind loopback only',
    )
  }
  const ms = (seconds: number) => seconds * 1000
  let coordinator: Coordinator
  try {
    coordinator = await startCoordinator({
      timeouts: {
        pingIntervalMs: ms(config.pingInterval),
        aliveTimeoutMs: ms(config.aliveTimeout),
        unusedContainerTimeoutMs: ms(config.unusedContainerTimeout),
        requestTimeoutMs: ms(config.requestTimeout),
      },
      host: config.host,
      port: config.port,
      maxInFlight: config.maxInFlight,
      transport: config.transport,
      limits: config.limits,
      security: access && { secretKey: access.secretKey, peers: access.peers },
      rateLimit: config.rateLimit > 0
        ? { perSecond: config.rateLimit, burst: config.rateBurst || config.rateLimit }
        : undefined,
      http: config.http,
    })
  } catch (error) {
    write(Deno.stderr, `${program}: ${(error as Error).message}\n`)
    return 1
  }
  const { server } = coordinator
  // Listen for signals before saying where we listen: whoever waits for that line
  // may stop us right after it.
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    Deno.addSignalListener(signal, () => stop(signal))
  }
  if (access !== undefined) {
    Deno.addSignalListener('SIGHUP', () => void reloadAccess(server, config.access!, access!))
  }
  const curve = access === undefined ? '' : ` (CURVE, public key ${access.publicKey})`
  if (coordinator.httpUrl !== undefined) {
    write(Deno.stdout, `huly-network http endpoint on ${coordinator.httpUrl}\n`)
  }
  write(Deno.stdout, `huly-network coordinator listening on ${server.endpoint}${curve}\n`)
  const signal = await stopped
  // SIGTERM is how deployments restart a process: peers keep their requests and
  // reconnect; SIGINT is an operator stopping it.
  const reason = signal === 'SIGTERM' ? 'restarting' : 'shutting down'
  logger.info('{signal}: {reason}', { signal, reason })
  // Never let a stuck close hold the exit.
  const deadline = setTimeout(() => Deno.exit(0), SHUTDOWN_GRACE_MS + 1500)
  // Not ready (503 on /readyz) while requests being served finish and peers are told;
  // then the HTTP endpoint goes too.
  await coordinator.shutdown(reason, SHUTDOWN_GRACE_MS)
  clearTimeout(deadline)
  return 0
}

if (import.meta.main) Deno.exit(await runCoordinator(Deno.args, 'huly-network'))
