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

export * from './access.ts'
export * from './agent.ts'
export * from './clock.ts'
export * from './drain.ts'
export * from './endpoint.ts'
export * from './errors.ts'
export * from './metrics.ts'
export * from './network.ts'
export * from './proxy.ts'
export * from './timeouts.ts'
export * from './types.ts'
export * from './protocol.ts'
