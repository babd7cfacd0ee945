// A coordinator inside the example's own process, on a free port of 127.0.0.1, so
// each example runs alone. In production it is its own process: `deno task start`.
import { NetworkImpl, TickManagerImpl, type Timeouts } from '@huly/network/core'
import { HttpEndpoint, NetworkServer } from '@huly/network/server'

/** A running in-process coordinator; `await using` stops it. */
export interface Coordinator extends AsyncDisposable {
  /** Where clients and agents connect, such as `tcp://127.0.0.1:40123`. */
  readonly endpoint: string
  /** Its HTTP endpoint (dashboard, /metrics), when asked for, such as `http://127.0.0.1:40124`. */
  readonly http?: string
}

/** Starts a coordinator with `timeouts` (the defaults otherwise), with an HTTP endpoint if `http`. */
export function startCoordinator(
  timeouts: Partial<Timeouts> = {},
  { http = false }: { http?: boolean } = {},
): Coordinator {
  const clock = new TickManagerImpl(20)
  clock.start()
  const network = new NetworkImpl(clock, { timeouts })
  const server = new NetworkServer(network, clock, { host: '127.0.0.1', port: 0 })
  const endpoint = http
    ? new HttpEndpoint(server, clock, { host: '127.0.0.1', port: 0 })
    : undefined
  return {
    endpoint: server.endpoint,
    http: endpoint?.url,
    async [Symbol.asyncDispose]() {
      await server.close()
      await endpoint?.close()
      await network.close()
      clock.stop()
    },
  }
}
