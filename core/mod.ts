/**
 * The model of Huly Network, with no I/O: ids and records, the clock, the network
 * (registry, placement, references, liveness, events), the agent, proxies, errors
 * and default timings.
 *
 * @example
 * ```ts
 * import { ManualTickManager, NetworkImpl } from '@huly/network/core'
 * const network = new NetworkImpl(new ManualTickManager())
 * console.log(network.kinds()) // []
 * await network.close()
 * ```
 *
 * @module
 */

export type { PeerGrant, PeerRole } from '../security/access.ts'
export { AgentImpl, type AgentOptions } from './agent.ts'
export {
  ManualTickManager,
  type TickHandler,
  type TickManager,
  TickManagerImpl,
} from '../common/clock.ts'
export * from '../common/error_exports.ts'
export {
  type Counter,
  type CounterSeries,
  type Histogram,
  type HistogramSeries,
  LATENCY_BUCKETS,
  type Metric,
  type MetricOptions,
  MetricsRegistry,
  type MetricsRegistryOptions,
  type Observe,
} from '../observability/metrics.ts'
export { DEFAULT_DRAIN_DEADLINE_MS, HELD_REQUEST_LIMITS, MAX_HAND_OVER_BYTES } from './drain.ts'
export { NetworkImpl, type NetworkOptions } from './network.ts'
export { createProxy, createProxyHandler, type Remote, type RequestSender } from './proxy.ts'
export { type Timeouts, timeouts } from './timeouts.ts'
export type {
  AgentRecord,
  AgentRegistration,
  AgentUuid,
  Broadcast,
  ChangeType,
  ClientStatus,
  ClientUuid,
  Container,
  ContainerFactory,
  ContainerKind,
  ContainerRecord,
  ContainerStart,
  ContainerState,
  ContainerStatus,
  ContainerUuid,
  CoordinatorModel,
  DrainOptions,
  DrainResult,
  EndpointRef,
  GetOptions,
  HeldRequestOutcome,
  MoveEvent,
  MoveObserver,
  MoveOutOptions,
  MoveOutResult,
  Network,
  NetworkAgent,
  NetworkCounts,
  NetworkEvent,
  NetworkEventListener,
  NetworkSnapshot,
  RegisterResult,
  StartOptions,
} from './types.ts'
