/**
 * huly.net's `NetworkServer(network, tickManager, host, port)` on this library's
 * coordinator server.
 *
 * @module
 */
import { NetworkServer as ModernNetworkServer } from '../server/network_server.ts'
import type { TickManager } from '../common/clock.ts'
import type { NetworkImpl } from './network.ts'
import { splitAddress } from './endpoints.ts'

/** Our bind host of huly.net's: `*` means every interface. */
export function bindHost(host: string): string {
  return host === '*' ? '0.0.0.0' : host
}

/**
 * The coordinator's server, listening at once on `host:port` (`*` for every
 * interface; port 0 picks a free one, see `getPort`).
 *
 * @example
 * ```ts
 * import { NetworkImpl, NetworkServer, TickManagerImpl } from '@huly/network/compat'
 * const tick = new TickManagerImpl(20)
 * tick.start()
 * const server = new NetworkServer(new NetworkImpl(tick), tick, '127.0.0.1', 0)
 * console.log('listening on', await server.getPort())
 * await server.close()
 * server.network.close()
 * tick.stop()
 * ```
 */
export class NetworkServer {
  /** This library's server behind it. */
  readonly modern: ModernNetworkServer

  /** Serves `network` on `host:port`. */
  constructor(
    readonly network: NetworkImpl,
    tickManager: TickManager,
    host: string = '*',
    port: number = 3737,
  ) {
    this.modern = new ModernNetworkServer(network.modern, tickManager, {
      host: bindHost(host),
      port,
    })
  }

  /** The port it listens on. */
  getPort(): Promise<number> {
    return Promise.resolve(splitAddress(this.modern.endpoint).port)
  }

  /** Stops listening (the network stays open: close it yourself). */
  async close(): Promise<void> {
    await this.modern.close()
  }
}
