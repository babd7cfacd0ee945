/**
 * References to containers and connections to them.
 *
 * @module
 */
import { createProxy, type Remote } from '../core/proxy.ts'
import type { ContainerKind, ContainerRecord, ContainerUuid, EndpointRef } from '../core/types.ts'
import type { RequestOptions } from '../rpc/session.ts'

/**
 * A handler of the events a container pushes to a connection.
 *
 * @example
 * ```ts
 * import type { ContainerEventHandler } from '@huly/network/client'
 * const handler: ContainerEventHandler = (data) => console.log('event', data)
 * ```
 */
export type ContainerEventHandler = (data: unknown) => void | Promise<void>

/**
 * A live connection to a container: requests plus the events it pushes.
 *
 * @example
 * ```ts ignore
 * import type { ContainerConnection } from '@huly/network/client'
 * declare const connection: ContainerConnection
 * connection.on = (event) => console.log(event)
 * await connection.request('subscribe', { topic: 'tx' })
 * await connection.close()
 * ```
 */
export interface ContainerConnection extends AsyncDisposable {
  /** The container's uuid. */
  readonly containerId: ContainerUuid
  /**
   * Receives every event the container pushes to this client. Events that arrive
   * while it is unset are held (up to {@link PENDING_EVENT_LIMIT}, in order) and
   * delivered when it is set; past that bound they are counted in `droppedEvents`.
   */
  on: ContainerEventHandler | undefined
  /** Events that arrived with no handler set once the holding bound was reached. */
  readonly droppedEvents: number
  /** Sends a request to the container over this connection. */
  request(operation: string, data?: unknown, options?: RequestOptions): Promise<unknown>
  /** A typed proxy whose methods are requests (`'<name>.<method>'`). */
  cast<T extends object>(interfaceName?: string): Remote<T>
  /** Disconnects; the container's `disconnect(clientId)` is called. */
  close(): Promise<void>
}

/**
 * How many events a connection holds while it has no handler.
 *
 * @example
 * ```ts
 * import { PENDING_EVENT_LIMIT } from '@huly/network/client'
 * console.log(`up to ${PENDING_EVENT_LIMIT} events wait for a handler`)
 * ```
 */
export const PENDING_EVENT_LIMIT = 1024

/**
 * Options of {@link ContainerReference.connect}.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from '@huly/network/client'
 * const options: ConnectOptions = { on: (event) => console.log(event) }
 * ```
 */
export interface ConnectOptions {
  /** The event handler, in place before the container is told of the connection. */
  on?: ContainerEventHandler
  /**
   * Told, with the container's new record, each time the connection has been opened
   * again because its container moved or was placed again (its agent died or
   * restarted): the container has taken the connect, so what it pushes from then on
   * reaches `on`. Events pushed between the removal and this call are not replayed.
   */
  onMoved?: (record: ContainerRecord) => void
}

/**
 * One reference (lease) on a container: while it is open the container lives.
 *
 * @example
 * ```ts ignore
 * import type { ContainerReference } from '@huly/network/client'
 * declare const ref: ContainerReference
 * console.log(await ref.request('echo', { hello: 'world' }))
 * await ref.close()
 * ```
 */
export interface ContainerReference extends AsyncDisposable {
  /** The container's uuid. */
  readonly uuid: ContainerUuid
  /** Its kind. */
  readonly kind: ContainerKind
  /** How it is reached now (it follows the container when it moves). */
  readonly endpoint: EndpointRef
  /** Its current record. */
  readonly record: ContainerRecord
  /** Sends a request through the network (re-acquiring the container if it died). */
  request(operation: string, data?: unknown, options?: RequestOptions): Promise<unknown>
  /**
   * Opens a connection: straight to the agent when it has an endpoint, else routed.
   * Pass `on` to receive the events the container sends as it is connected.
   */
  connect(options?: ConnectOptions): Promise<ContainerConnection>
  /** A typed proxy whose methods are requests (`'<name>.<method>'`). */
  cast<T extends object>(interfaceName?: string): Remote<T>
  /** Releases this reference (once; later calls do nothing). */
  close(): Promise<void>
}

/** The proxy of `cast()`: requests go through `send`. */
export function castRequests<T extends object>(
  send: (operation: string, data: unknown) => Promise<unknown>,
  interfaceName?: string,
): Remote<T> {
  return createProxy<T>({ request: send }, interfaceName)
}
