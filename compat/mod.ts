/**
 * huly.net's public API (packages core, client and server) on this library:
 * code written for huly.net runs with only its imports changed to
 * `@huly/network/compat` (its `backrpc` package too, over this library's wire). Names, signatures, return shapes, units (seconds),
 * enums and JSON-string endpoint references are huly.net's; the network,
 * transport and fixes underneath are this library's (see
 * `docs/migrating-from-huly-net.md` for the differences that remain, and for
 * huly.net's own specs and examples run with only their imports changed: every
 * test of its public API passes but the five that assert a defect fixed here).
 *
 * @example
 * ```ts
 * import { AgentImpl, FakeTickManager, NetworkImpl } from '@huly/network/compat'
 * import type { AgentUuid, ClientUuid, ContainerKind } from '@huly/network/core'
 *
 * const network = new NetworkImpl(new FakeTickManager())
 * const agent = new AgentImpl('agent-1' as AgentUuid, {
 *   echo: async (options) => ({
 *     uuid: options.uuid!,
 *     container: {
 *       request: async (_op, data) => data,
 *       terminate: async () => {},
 *       ping: async () => {},
 *       connect: () => {},
 *       disconnect: () => {},
 *     },
 *     endpoint: '' as never,
 *   }),
 * })
 * await agent.register(network)
 * const [uuid] = await network.get('client-1' as ClientUuid, 'echo' as ContainerKind, {})
 * console.assert(await network.request(uuid, 'echo', 'hi') === 'hi')
 * network.close()
 * ```
 *
 * @module
 */

export { AgentImpl, type Container, type ContainerFactory, type NetworkAgent } from './agent.ts'
export {
  BackRPCClient,
  type BackRPCClientHandler,
  type BackRPCResponseSend,
  BackRPCServer,
  type BackRPCServerHandler,
  type BackRPCServerStats,
  type ClientId,
  parseJSON,
  stringifyJSON,
} from './backrpc.ts'
export {
  type ContainerConnection,
  ContainerConnectionImpl,
  type ContainerReference,
} from './connection.ts'
export {
  createNetworkClient,
  type HeldReference,
  NetworkAgentServer,
  NetworkClientImpl,
  NetworkClientWithAgents,
  type StatelessContainerConfig,
  type StatelessContainersFactory,
} from './client.ts'
export {
  agentDirectRef,
  agentNoConnectRef,
  containerDirectRef,
  containerOnAgentEndpointRef,
  EndpointKind,
  type EndpointRefData,
  parseEndpointRef,
} from './endpoints.ts'
export { type Network, NetworkImpl } from './network.ts'
export {
  createProxy,
  createProxyHandler,
  handleProxyCall,
  type RequestHandler,
  type ServiceImplementation,
} from './proxy.ts'
export {
  type AgentRecord,
  type AgentRecordInfo,
  type ContainerRecord,
  type GetOptions,
  type NetworkEvent,
  NetworkEventKind,
  type NetworkUpdateListener,
} from './records.ts'
export { NetworkServer, opNames } from './server.ts'
export type { AgentEndpointRef, ContainerEndpointRef } from './types.ts'
export {
  composeCID,
  containerUuid,
  FakeTickManager,
  groupByArray,
  TickManagerImpl,
  timeouts,
} from './utils.ts'
export type { AgentUuid, ClientUuid, ContainerKind, ContainerUuid } from '../core/types.ts'
export type { TickHandler, TickManager } from '../common/clock.ts'
