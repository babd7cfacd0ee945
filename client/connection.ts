/**
 * Connections to containers: requests plus the events a container pushes.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import { ClosedError } from '../common/errors.ts'
import type { Remote } from '../core/proxy.ts'
import type { ContainerRecord, ContainerUuid } from '../core/types.ts'
import type { RequestOptions } from '../rpc/session.ts'
import { castRequests, type ClientInternals, notRunHere } from './_internals.ts'
import type { ConnectOptions, ReferenceImpl } from './reference.ts'

const logger = getLogger(['huly-network', 'client'])

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
  readonly uuid: ContainerUuid
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

/** A connection of one reference; its client keeps the table of connections by place. */
export class ConnectionImpl implements ContainerConnection {
  /** Where requests and events go now: a direct link address, or the network. */
  via: string | undefined
  #closed = false
  #on: ContainerEventHandler | undefined
  /** Events that came before a handler was set, in order. */
  #pending: unknown[] = []
  #dropped = 0

  readonly #client: ClientInternals
  readonly #reference: ReferenceImpl
  readonly #onMoved: ConnectOptions['onMoved']

  constructor(
    client: ClientInternals,
    reference: ReferenceImpl,
    onMoved: ConnectOptions['onMoved'],
  ) {
    this.#client = client
    this.#reference = reference
    this.#onMoved = onMoved
  }

  get on(): ContainerEventHandler | undefined {
    return this.#on
  }

  set on(handler: ContainerEventHandler | undefined) {
    this.#on = handler
    while (this.#on !== undefined && this.#pending.length > 0) {
      this.#handle(this.#on, this.#pending.shift())
    }
  }

  get droppedEvents(): number {
    return this.#dropped
  }

  get uuid(): ContainerUuid {
    return this.#reference.uuid
  }

  /** Opens the connection at its container's place (a direct link, or the network). */
  async open(): Promise<void> {
    this.via = this.#client.link(this.#reference.endpoint)
    await this.#client.attachConnection(this)
  }

  /** Opened again at the container's new place (`DirectLinks.follow`). */
  reopened(record: ContainerRecord): void {
    if (this.#closed || this.#onMoved === undefined) return
    try {
      this.#onMoved(record)
    } catch (error) {
      logger.error('a connection onMoved handler failed: {error}', { error })
    }
  }

  /** An event of the container: to the handler, else held (up to the bound) or counted. */
  deliver(data: unknown): void {
    const handler = this.#on
    if (handler !== undefined) return this.#handle(handler, data)
    if (this.#pending.length < PENDING_EVENT_LIMIT) {
      this.#pending.push(data)
      return
    }
    if (this.#dropped++ === 0) {
      logger.warn(
        'connection to {uuid} has no event handler and {limit} events waiting: later ones are dropped and counted in droppedEvents',
        { uuid: this.uuid, limit: PENDING_EVENT_LIMIT },
      )
    }
  }

  #handle(handler: ContainerEventHandler, data: unknown): void {
    try {
      const result = handler(data)
      // Only a handler that returned a promise costs one; most return nothing.
      if (result instanceof Promise) {
        result.catch((error) =>
          logger.error('a connection event handler failed: {error}', { error })
        )
      }
    } catch (error) {
      logger.error('a connection event handler failed: {error}', { error })
    }
  }

  async request(operation: string, data?: unknown, options?: RequestOptions): Promise<unknown> {
    if (this.#closed) throw new ClosedError(`the connection to "${this.uuid}" is closed`)
    if (this.#reference.stale) await this.#reference.reacquire()
    const via = this.via
    if (via === undefined) {
      return await this.#reference.requestThroughNetwork(operation, data, options)
    }
    try {
      return await this.#client.routedRequest(via, this.uuid, operation, data, options)
    } catch (error) {
      // It did not run at the old place: the coordinator holds it until the move ends.
      if (!notRunHere(error)) throw error
      return await this.#reference.requestThroughNetwork(operation, data, options)
    }
  }

  cast<T extends object>(interfaceName?: string): Remote<T> {
    return castRequests<T>((operation, data) => this.request(operation, data), interfaceName)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#pending = []
    this.#reference.forgetConnection(this)
    await this.#client.detachConnection(this, this.via)
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}
