/**
 * Helpers of the socket tests: bounded waits that fail instead of hanging.
 *
 * @module
 */

import { TickManagerImpl } from '../../core/mod.ts'
import { RpcClient } from '../../rpc/client.ts'
import type { ZmqSocket } from '../../rpc/mod.ts'
import { RpcServer } from '../../rpc/server.ts'
import { within } from '../_within.ts'

export { within }

/** Resolves once `predicate()` holds, checking every 5 ms; rejects after `ms`. */
export function waitFor(predicate: () => boolean, ms: number, what: string): Promise<void> {
  return within(ms, what, async () => {
    while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 5))
  })
}

/** Closes every socket, each at most once, and fails if closing takes over 5 s. */
export async function closeAll(sockets: Iterable<ZmqSocket | undefined>): Promise<void> {
  await within(5000, 'closing sockets', async () => {
    await Promise.all([...sockets].map((socket) => socket?.close()))
  })
}

/** Closes `sockets` with closeAll at the end of an `await using` block. */
export function closeAtEnd(...sockets: ZmqSocket[]): AsyncDisposable {
  return { [Symbol.asyncDispose]: () => closeAll(sockets) }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** UTF-8 bytes of a string. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

/** The string of UTF-8 bytes. */
export function text(data: Uint8Array): string {
  return decoder.decode(data)
}

/** A promise with its resolve function. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** A server, and a client of it, on a clock ticking `rate` times a second. */
export interface RpcPair extends AsyncDisposable {
  server: RpcServer
  endpoint: string
  client: RpcClient
}

/**
 * Starts an RpcServer on a free port and an RpcClient of it (a random id by default);
 * `await using` closes the client, then the server, and stops the clock.
 */
export function rpcPair(
  serverOptions: Omit<ConstructorParameters<typeof RpcServer>[0], 'clock'>,
  clientOptions: Partial<ConstructorParameters<typeof RpcClient>[1]> = {},
  rate = 20,
): RpcPair {
  const closing = new AsyncDisposableStack()
  const clock = new TickManagerImpl(rate)
  clock.start()
  closing.defer(() => clock.stop())
  const server = new RpcServer({ clock, ...serverOptions })
  closing.defer(() => server.close())
  const endpoint = server.listen('tcp://127.0.0.1:0')
  const client = closing.use(
    new RpcClient(endpoint, { clock, clientId: crypto.randomUUID(), ...clientOptions }),
  )
  return { server, endpoint, client, [Symbol.asyncDispose]: () => closing.disposeAsync() }
}
