// A coordinator inside the example's own process, on a free port of 127.0.0.1, so
// each example runs alone. In production it is its own process: `deno task start`.
import { NetworkImpl, TickManagerImpl, type Timeouts } from '@huly/network/core'
import { NetworkServer } from '@huly/network/server'

/** A running in-process coordinator; `await using` stops it. */
export interface Coordinator extends AsyncDisposable {
  /** Where clients and agents connect, such as `tcp://127.0.0.1:40123`. */
  readonly endpoint: string
}

/** Starts a coordinator with `timeouts` (the defaults otherwise). */
export function startCoordinator(timeouts: Partial<Timeouts> = {}): Coordinator {
  const clock = new TickManagerImpl(20)
  clock.start()
  const network = new NetworkImpl(clock, { timeouts })
  const server = new NetworkServer(network, clock, { host: '127.0.0.1', port: 0 })
  return {
    endpoint: server.endpoint,
    async [Symbol.asyncDispose]() {
      await server.close()
      await network.close()
      clock.stop()
    },
  }
}
