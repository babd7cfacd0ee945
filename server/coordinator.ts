/**
 * A coordinator in one call: the clock, the model, the rpc server and the HTTP
 * endpoint, wired and started, then torn down in the reverse order.
 *
 * @module
 */
import { TickManagerImpl } from '../common/clock.ts'
import { NetworkError } from '../common/errors.ts'
import { NetworkImpl } from '../core/network.ts'
import type { Timeouts } from '../core/timeouts.ts'
import { HttpEndpoint, type HttpEndpointOptions } from './http.ts'
import { NetworkServer, type NetworkServerOptions } from './network_server.ts'
import { DEFAULT_HOST, DEFAULT_HTTP_PORT, DEFAULT_PORT } from './_defaults.ts'

/**
 * What {@link startCoordinator} starts: the server's options, the network's timings,
 * and whether (and where) the HTTP endpoint listens.
 *
 * @example
 * ```ts
 * import type { CoordinatorOptions } from '@huly/network/server'
 * const options: CoordinatorOptions = { port: 0, http: { port: 0 }, timeouts: { aliveTimeoutMs: 5_000 } }
 * ```
 */
export interface CoordinatorOptions extends NetworkServerOptions {
  /** The network's timings, in milliseconds (the defaults of `timeouts` otherwise). */
  timeouts?: Partial<Timeouts>
  /**
   * The HTTP endpoint (dashboard, `/metrics`, `/healthz`, `/readyz`): given (even
   * `{}`, for 127.0.0.1:3780), it listens; absent, no port is opened.
   */
  http?: HttpEndpointOptions
  /** How many times a second the clock ticks (20). */
  ticksPerSecond?: number
}

/**
 * A running coordinator. `await using` (or {@link Coordinator.close}) stops the
 * HTTP endpoint, the server, the network and the clock, in that order.
 *
 * @example
 * ```ts
 * import { type Coordinator, startCoordinator } from '@huly/network/server'
 * await using coordinator: Coordinator = await startCoordinator({ port: 0 })
 * console.log(coordinator.endpoint) // tcp://127.0.0.1:…
 * ```
 */
export interface Coordinator extends AsyncDisposable {
  /** Where clients and agents connect, such as `tcp://127.0.0.1:3737`. */
  readonly endpoint: string
  /** The HTTP endpoint's address, such as `http://127.0.0.1:3780`, when it is on. */
  readonly httpUrl: string | undefined
  /** The model: agents, containers and references. */
  readonly network: NetworkImpl
  /** The rpc server in front of the model. */
  readonly server: NetworkServer
  /** The clock the network and the server run on. */
  readonly clock: TickManagerImpl
  /**
   * Stops gracefully: not ready any more, requests being served get `graceMs` to
   * finish, every peer is told `reason` ("restarting" makes them wait and
   * reconnect), then everything closes.
   */
  shutdown(reason?: string, graceMs?: number): Promise<void>
  /** Stops at once; peers see the coordinator gone. Calling it again does nothing. */
  close(): Promise<void>
}

/**
 * Starts a coordinator: a clock, a {@link NetworkImpl}, a {@link NetworkServer}
 * listening on `host:port` and, when `http` is given, an {@link HttpEndpoint}.
 * If any part cannot start, what started is closed again and the promise rejects:
 * with our error for a bad option, or with an `Error` naming the address that could
 * not be bound (its `cause` is the system's error).
 *
 * @example
 * ```ts
 * import { createNetworkClient } from '@huly/network'
 * import { startCoordinator } from '@huly/network/server'
 * await using coordinator = await startCoordinator({ port: 0 })
 * await using client = await createNetworkClient(coordinator.endpoint)
 * console.log(await client.kinds()) // []
 * ```
 */
export function startCoordinator(options: CoordinatorOptions = {}): Promise<Coordinator> {
  const { timeouts, http: httpOptions, ticksPerSecond = 20, ...serverOptions } = options
  const clock = new TickManagerImpl(ticksPerSecond)
  const network = new NetworkImpl(clock, { timeouts })
  let server: NetworkServer | undefined
  let http: HttpEndpoint | undefined
  let stopping: Promise<void> | undefined
  /** Tears down what started, once, in the reverse order. */
  const stop = (serverStop: (server: NetworkServer) => Promise<void>): Promise<void> =>
    stopping ??= (async () => {
      if (server !== undefined) await serverStop(server)
      await http?.close()
      await network.close()
      clock.stop()
    })()
  clock.start()
  let listening = `tcp://${serverOptions.host ?? DEFAULT_HOST}:${
    serverOptions.port ?? DEFAULT_PORT
  }`
  try {
    server = new NetworkServer(network, clock, serverOptions)
    listening = `http://${httpOptions?.host ?? DEFAULT_HOST}:${
      httpOptions?.port ?? DEFAULT_HTTP_PORT
    }`
    if (httpOptions !== undefined) http = new HttpEndpoint(server, clock, httpOptions)
  } catch (error) {
    // Our own errors (a bad option) keep their class; the system's say which address.
    const reason = error instanceof NetworkError || !(error instanceof Error)
      ? error
      : new Error(`cannot listen on ${listening}: ${error.message}`, { cause: error })
    return stop((server) => server.close()).then(() => Promise.reject(reason))
  }
  const started = server
  const close = () => stop((server) => server.close())
  return Promise.resolve({
    endpoint: started.endpoint,
    httpUrl: http?.url,
    network,
    server: started,
    clock,
    shutdown: (reason = 'restarting', graceMs = 1000) =>
      stop((server) => server.shutdown(reason, graceMs)),
    close,
    [Symbol.asyncDispose]: close,
  })
}
