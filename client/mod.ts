/**
 * The client of Huly Network: get containers and talk to them, serve agents.
 *
 * @example
 * ```ts ignore
 * import { createNetworkClient } from '@huly/network/client'
 * await using client = await createNetworkClient('127.0.0.1:3737')
 * const ref = await client.get('echo')
 * console.log(await ref.request('echo', { hello: 'world' }))
 * ```
 *
 * @module
 */

export {
  type ContainerQuery,
  createNetworkClient,
  type NetworkClient,
  type NetworkClientOptions,
} from './network_client.ts'
export { type ConnectOptions, type ContainerReference } from './reference.ts'
export {
  type ContainerConnection,
  type ContainerEventHandler,
  PENDING_EVENT_LIMIT,
} from './connection.ts'
export {
  type ServeAgentOptions,
  type ServedAgent,
  type StatelessContainer,
} from './served_agent.ts'
