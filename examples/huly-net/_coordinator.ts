// A coordinator inside the example's own process, written with the compat API as a
// huly.net user would: NetworkImpl + NetworkServer on a free port of 127.0.0.1.
import { type Container, NetworkImpl, NetworkServer, TickManagerImpl } from '@huly/network/compat'

/** A running coordinator; `await using` stops it. */
export interface Coordinator extends AsyncDisposable {
  /** `host:port` for `createNetworkClient`. */
  readonly url: string
}

/** Starts a coordinator on a free port. */
export async function startCoordinator(): Promise<Coordinator> {
  const tickManager = new TickManagerImpl(20)
  tickManager.start()
  const network = new NetworkImpl(tickManager)
  const server = new NetworkServer(network, tickManager, '127.0.0.1', 0)
  return {
    url: `127.0.0.1:${await server.getPort()}`,
    async [Symbol.asyncDispose]() {
      await server.close()
      network.close()
      tickManager.stop()
    },
  }
}

/** A container with huly.net's full interface around a `request` function. */
export function containerOf(
  request: (operation: string, data?: unknown) => Promise<unknown>,
  onConnect?: (clientId: string, broadcast: (data: unknown) => Promise<void>) => void,
  onDisconnect?: (clientId: string) => void,
): Container {
  return {
    request,
    terminate: () => Promise.resolve(),
    ping: () => Promise.resolve(),
    connect: (clientId: string, broadcast: (data: unknown) => Promise<void>) =>
      onConnect?.(clientId, broadcast),
    disconnect: (clientId: string) => onDisconnect?.(clientId),
  }
}
