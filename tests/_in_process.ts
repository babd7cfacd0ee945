/**
 * A coordinator in this process, for the tests of every folder that need one with
 * real sockets but no child process.
 *
 * @module
 */
import { NetworkImpl, TickManagerImpl } from '../core/mod.ts'
import { NetworkServer, type NetworkServerOptions } from '../server/mod.ts'

/** A running clock, a NetworkImpl on it and its NetworkServer. */
export interface InProcessCoordinator extends AsyncDisposable {
  clock: TickManagerImpl
  network: NetworkImpl
  server: NetworkServer
}

/**
 * Starts a coordinator with `options` on a free port (unless they name one); `await
 * using` closes the server, then the network, and stops the clock.
 */
export function inProcessCoordinator(options: NetworkServerOptions = {}): InProcessCoordinator {
  const clock = new TickManagerImpl(20)
  clock.start()
  const network = new NetworkImpl(clock)
  const server = new NetworkServer(network, clock, { port: 0, ...options })
  return {
    clock,
    network,
    server,
    async [Symbol.asyncDispose]() {
      await server.close()
      await network.close()
      clock.stop()
    },
  }
}
