/**
 * Huly Network for Deno: a distributed virtual network of agents, containers and
 * clients over ZeroMQ.
 *
 * The root export is what an application needs: a client of the network
 * ({@link createNetworkClient}), the shapes of containers and their factories for
 * serving an agent, typed proxies, and the errors to branch on with `instanceof`.
 * The coordinator and its model live in `@huly/network/server` and
 * `@huly/network/core`, the transport in `@huly/network/rpc`.
 *
 * @example
 * ```ts ignore
 * import { createNetworkClient } from '@huly/network'
 * await using client = await createNetworkClient('127.0.0.1:3737')
 * const ref = await client.get('echo')
 * console.log(await ref.request('echo', { hello: 'world' }))
 * ```
 *
 * @module
 */

export {
  type ConnectOptions,
  type ContainerConnection,
  type ContainerEventHandler,
  type ContainerQuery,
  type ContainerReference,
  createNetworkClient,
  type NetworkClient,
  type NetworkClientOptions,
  type ServeAgentOptions,
  type ServedAgent,
  type StatelessContainer,
} from './client/mod.ts'
export {
  type AgentRecord,
  type AgentUuid,
  type Broadcast,
  type ChangeType,
  type ClientUuid,
  type Container,
  type ContainerFactory,
  type ContainerKind,
  type ContainerRecord,
  type ContainerStart,
  type ContainerUuid,
  createProxy,
  createProxyHandler,
  type EndpointRef,
  type NetworkEvent,
  type NetworkEventListener,
  type Remote,
  type RequestSender,
  type Timeouts,
  timeouts,
} from './core/mod.ts'
export * from './common/error_exports.ts'
export { type CurveKeyPair, curveKeyPair } from './rpc/mod.ts'
