/**
 * The coordinator process: {@link NetworkServer} serves a `NetworkImpl` over
 * ZeroMQ.
 *
 * @example
 * ```ts ignore
 * import { NetworkImpl, TickManagerImpl } from '@huly/network/core'
 * import { NetworkServer } from '@huly/network/server'
 * const clock = new TickManagerImpl(10)
 * clock.start()
 * const server = new NetworkServer(new NetworkImpl(clock), clock, { port: 3737 })
 * ```
 *
 * @module
 */

export {
  type AgentRate,
  HttpEndpoint,
  type HttpEndpointOptions,
  type LiveStats,
  type RequestRate,
} from './http.ts'
export { CoordinatorMetrics, type CoordinatorSources, type RequestTotals } from './metrics.ts'
export {
  type AgentStatus,
  type CoordinatorState,
  NetworkServer,
  type NetworkServerOptions,
} from './network_server.ts'
export type { NetworkSecurity } from './network_server.ts'
export { type AccessConfig, readAccessFile, readKeyFile, writeKeyPair } from './keys.ts'
