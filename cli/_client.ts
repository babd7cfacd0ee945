// Connecting to the coordinator for one command: a one-line error, not a stack
// trace, when it is unreachable or answers with an error.
import { createNetworkClient, type NetworkClient } from '../client/mod.ts'
import { NetworkError, RemoteError, TimeoutError } from '../core/mod.ts'
import type { DealerSocketOptions } from '../rpc/mod.ts'
import { curvePublicKey } from '../rpc/mod.ts'
import { configureLogging } from '../server/logging.ts'
import { isZ85Key, readKeyFile } from '../server/keys.ts'
import { type ClientFlags, CliError, ExitCode, UsageError } from './_options.ts'
import { err } from './_output.ts'

/**
 * Connects, runs `use` and closes the client. Fails with a {@link CliError} when
 * the coordinator is not reached within the connect timeout.
 */
export async function withClient<T>(
  flags: ClientFlags,
  use: (client: NetworkClient) => Promise<T>,
  onConnectionChange?: (connected: boolean, reason?: string) => void,
): Promise<T> {
  const client = await connect(flags, onConnectionChange)
  try {
    return await use(client)
  } catch (error) {
    throw asCliError(error)
  } finally {
    await closeWithin(client)
  }
}

/** A connected client; the caller closes it. */
export async function connect(
  flags: ClientFlags,
  onConnectionChange?: (connected: boolean, reason?: string) => void,
): Promise<NetworkClient> {
  await configureLogging(flags.logLevel, flags.logFormat, true)
  const client = await createNetworkClient(flags.network, {
    timeouts: { requestTimeoutMs: flags.requestTimeout * 1000 },
    onConnectionChange,
    socket: await curveOptions(flags),
    transport: flags.transport,
  })
  try {
    await client.waitConnection(flags.connectTimeoutMs)
  } catch (error) {
    await closeWithin(client)
    if (error instanceof TimeoutError) {
      throw new CliError(
        `cannot reach the coordinator at ${flags.network} within ${
          flags.connectTimeoutMs / 1000
        } s`,
        ExitCode.unreachable,
      )
    }
    throw asCliError(error)
  }
  return client
}

/**
 * For commands that stay: says on stderr when the coordinator is lost and when it is
 * back (not at the first connection).
 */
export function reportConnection(
  flags: ClientFlags,
): (connected: boolean, reason?: string) => void {
  let connectedBefore = false
  return (connected, reason) => {
    if (!connected) {
      err(`lost the coordinator at ${flags.network}${reason ? ` (${reason})` : ''}; reconnecting`)
    } else if (connectedBefore) err(`reconnected to the coordinator at ${flags.network}`)
    connectedBefore ||= connected
  }
}

/** The CURVE options of `--key` and `--server-key`, read from their files. */
async function curveOptions(flags: ClientFlags): Promise<DealerSocketOptions | undefined> {
  if (flags.keyFile === undefined || flags.serverKey === undefined) return undefined
  try {
    const secretKey = await readKeyFile(flags.keyFile)
    const serverKey = isZ85Key(flags.serverKey)
      ? flags.serverKey
      : await readKeyFile(flags.serverKey)
    return { curve: { serverKey, secretKey, publicKey: curvePublicKey(secretKey) } }
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/** Errors of the network become one line with an exit code. */
export function asCliError(error: unknown): unknown {
  if (error instanceof CliError) return error
  if (error instanceof RemoteError) {
    return new CliError(`${error.remoteName}: ${error.message}`, ExitCode.remote)
  }
  if (error instanceof NetworkError && error.remote) {
    return new CliError(`${error.name}: ${error.message}`, ExitCode.remote)
  }
  if (error instanceof TimeoutError) return new CliError(error.message, ExitCode.unreachable)
  if (error instanceof NetworkError) {
    return new CliError(`${error.name}: ${error.message}`, ExitCode.unreachable)
  }
  return error
}

/** Says `ready` on stderr, then resolves with the first of SIGINT and SIGTERM. */
export function interruptedAfterSaying(ready: string): Promise<Deno.Signal> {
  const interrupted = untilInterrupted() // before the line that says we are ready
  err(ready)
  return interrupted
}

/** Resolves with the first of SIGINT and SIGTERM. */
export function untilInterrupted(): Promise<Deno.Signal> {
  const { promise, resolve } = Promise.withResolvers<Deno.Signal>()
  const listeners = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const listener = () => resolve(signal)
    Deno.addSignalListener(signal, listener)
    return [signal, listener] as const
  })
  return promise.finally(() => {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener)
  })
}

/**
 * Closes the client, but waits at most `ms`: with the coordinator gone, releasing
 * references and unregistering agents cannot be answered, and a command that was
 * told to stop must stop. What is left ends with the process.
 */
export async function closeWithin(client: NetworkClient, ms = 1000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<void>((resolve) => timer = setTimeout(resolve, ms))
  await Promise.race([client.close().catch(() => {}), late])
  clearTimeout(timer)
}
