/**
 * Unstable helpers of Huly Network, for tools built on its wire and its rules
 * (a custom coordinator, a test harness, a protocol dissector).
 *
 * **Not covered by semantic versioning**: anything here may change or go in any
 * release. Applications use the root export and `./core`, `./rpc`, `./client`,
 * `./server` instead.
 *
 * @example
 * ```ts
 * import { NetworkOperation } from '@huly/network/internal'
 * console.log(NetworkOperation.get) // 'network.get'
 * ```
 *
 * @module
 */

export {
  audit,
  describeUse,
  mayRegister,
  mayUse,
  peerIdFor,
  requireAccess,
  seesEverything,
} from './security/access.ts'
export {
  directEndpoint,
  networkEndpoint,
  parseEndpointRef,
  routedEndpoint,
} from './core/endpoint.ts'
export { errorFromWire } from './rpc/wire_errors.ts'
export { estimateQuantile } from './observability/metrics.ts'
export {
  type AgentConnectParams,
  type AgentContainerParams,
  type AgentMoveOutParams,
  type AgentMoveOutReply,
  AgentOperation,
  type AgentParams,
  type AgentRouteMeta,
  type AgentStartParams,
  type ContainerEventMeta,
  ContainerOperation,
  type ContainerParams,
  type DrainParams,
  EventTopic,
  type GetParams,
  type IdentifyParams,
  type ListParams,
  NetworkOperation,
  type RegisterParams,
  type RevokedParams,
  type RouteMeta,
} from './core/protocol.ts'
export {
  type AgentOperations,
  checkParams,
  type ContainerOperations,
  dispatcher,
  type EntryParams,
  type EntryResult,
  type NetworkOperations,
  type NoParams,
  type OperationHandlers,
  type Operations,
  type OperationTables,
  type ParamsOf,
  requireRegistration,
  requireRevoked,
  type ResultOf,
} from './core/operations.ts'
export { handleProxyCall } from './core/proxy.ts'
export { resolveTimeouts } from './core/timeouts.ts'
export { type Header, Kind } from './rpc/_frames.ts'
export { describeError } from './rpc/wire_errors.ts'
export { toEndpoint } from './client/network_client.ts'
export { isZ85Key } from './server/keys.ts'
