/**
 * The coordinator: {@link startCoordinator} starts one in this process; underneath,
 * {@link NetworkServer} serves a `NetworkImpl` over ZeroMQ.
 *
 * @example
 * ```ts
 * import { startCoordinator } from '@huly/network/server'
 * await using coordinator = await startCoordinator({ port: 0, http: { port: 0 } })
 * console.log(coordinator.endpoint, coordinator.httpUrl)
 * ```
 *
 * @module
 */

export { type Coordinator, type CoordinatorOptions, startCoordinator } from './coordinator.ts'
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
