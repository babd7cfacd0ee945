/**
 * huly.net's references and connections to a container, on this library's.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type {
  ContainerConnection as ModernConnection,
  ContainerReference as ModernReference,
} from '../client/mod.ts'
import type { ContainerUuid } from '../core/types.ts'
import { toCompatRef } from './endpoints.ts'
import { createProxy, type RequestHandler } from './proxy.ts'
import type { ContainerEndpointRef } from './types.ts'

const logger = getLogger(['huly-network', 'compat', 'client'])

/**
 * A connection to a container: requests and the events it pushes (`on`).
 *
 * @example
 * ```ts
 * import type { ContainerConnection } from '@huly/network/compat'
 * const listen = (connection: ContainerConnection) => { connection.on = async (event) => console.log(event) }
 * ```
 */
export interface ContainerConnection extends RequestHandler {
  /** The container's uuid. */
  readonly containerId: ContainerUuid
  /** Sends a request. */
  request(operation: string, data?: unknown): Promise<unknown>
  /** A typed proxy: `Interface.method` requests. */
  cast<T extends object>(interfaceName?: string): T
  /** Receives the container's events. */
  on?: (data: unknown) => Promise<void> | void
  /** Closes the connection. */
  close(): Promise<void>
}

/**
 * huly.net's holder of a container connection, or of the promise of one: requests
 * wait for it, `setConnection` replaces it (the one before is closed) and the
 * events of whichever connection it holds reach `on`.
 *
 * @example
 * ```ts
 * import { type ContainerConnection, ContainerConnectionImpl } from '@huly/network/compat'
 * import type { ContainerUuid } from '@huly/network/core'
 * const direct = {
 *   containerId: 'c1' as ContainerUuid,
 *   request: (operation: string) => Promise.resolve(`done ${operation}`),
 *   cast: () => ({}),
 *   close: () => Promise.resolve(),
 * } as unknown as ContainerConnection
 * const connection = new ContainerConnectionImpl('c1' as ContainerUuid, Promise.resolve(direct))
 * console.assert(await connection.request('op') === 'done op')
 * await connection.close()
 * ```
 */
export class ContainerConnectionImpl implements ContainerConnection {
  /** Receives the events of the connection it holds. */
  on?: (data: unknown) => Promise<void> | void
  /** Called each time the connection is replaced. */
  onEndpointUpdate?: () => void
  #connection!: ContainerConnection | Promise<ContainerConnection>

  /** Holds `connection` for the container `containerId`. */
  constructor(
    readonly containerId: ContainerUuid,
    connection: ContainerConnection | Promise<ContainerConnection>,
  ) {
    this.setConnection(connection)
  }

  /** Waits until the connection it holds is there. */
  async connect(): Promise<void> {
    await this.#connection
  }

  /** Holds `connection` from now on; the one held before is closed. */
  setConnection(connection: ContainerConnection | Promise<ContainerConnection>): void {
    const previous = this.#connection as
      | ContainerConnection
      | Promise<ContainerConnection>
      | undefined
    if (previous !== undefined) {
      Promise.resolve(previous).then((held) => held.close()).catch((error) =>
        logger.warn('closing a replaced connection failed: {error}', { error })
      )
    }
    this.#connection = connection
    Promise.resolve(connection).then((held) => {
      if (this.#connection === connection) this.#connection = held
      held.on = (event) => this.on?.(event)
    }, () => {})
    this.onEndpointUpdate?.()
  }

  /** Sends a request on the connection it holds, once that is there. */
  async request(operation: string, data?: unknown): Promise<unknown> {
    return await (await this.#connection).request(operation, data)
  }

  /** A typed proxy: `Interface.method` requests. */
  cast<T extends object>(interfaceName?: string): T {
    return createProxy<T>(this, interfaceName)
  }

  /** Closes the connection it holds. */
  async close(): Promise<void> {
    await (await this.#connection).close()
  }
}

/**
 * A reference to a container: while it is open, the container is kept.
 *
 * @example
 * ```ts
 * import type { ContainerReference } from '@huly/network/compat'
 * const use = async (ref: ContainerReference) => { await ref.request('op', {}); await ref.close() }
 * ```
 */
export interface ContainerReference extends RequestHandler {
  /** The container's uuid. */
  readonly uuid: ContainerUuid
  /** Its endpoint reference. */
  readonly endpoint: ContainerEndpointRef
  /** Sends a request through the network. */
  request(operation: string, data?: unknown): Promise<unknown>
  /** A typed proxy: `Interface.method` requests. */
  cast<T extends object>(interfaceName?: string): T
  /** A connection straight to its endpoint. */
  connect(): Promise<ContainerConnection>
  /** Releases it. */
  close(): Promise<void>
  /** Releases it (the huly.net README's name for `close`). */
  release(): Promise<void>
}

/** A huly.net reference on one of this library's. */
export class CompatReference implements ContainerReference {
  /** Wraps `modern`; `onClose` runs once it is closed or released. */
  constructor(readonly modern: ModernReference, readonly onClose: () => void = () => {}) {}

  get uuid(): ContainerUuid {
    return this.modern.uuid
  }

  get endpoint(): ContainerEndpointRef {
    const { record } = this.modern
    return toCompatRef(record.endpoint, record.uuid, record.agentId)
  }

  request(operation: string, data?: unknown): Promise<unknown> {
    return this.modern.request(operation, data)
  }

  cast<T extends object>(interfaceName?: string): T {
    return createProxy<T>(this, interfaceName)
  }

  async connect(): Promise<ContainerConnection> {
    return new CompatConnection(await this.modern.connect())
  }

  close(): Promise<void> {
    this.onClose()
    return this.modern.close()
  }

  release(): Promise<void> {
    return this.close()
  }
}

class CompatConnection implements ContainerConnection {
  constructor(readonly modern: ModernConnection) {}

  get containerId(): ContainerUuid {
    return this.modern.uuid
  }

  get on(): ((data: unknown) => Promise<void> | void) | undefined {
    return this.modern.on
  }

  set on(handler: ((data: unknown) => Promise<void> | void) | undefined) {
    this.modern.on = handler
  }

  request(operation: string, data?: unknown): Promise<unknown> {
    return this.modern.request(operation, data)
  }

  cast<T extends object>(interfaceName?: string): T {
    return createProxy<T>(this, interfaceName)
  }

  close(): Promise<void> {
    return this.modern.close()
  }
}
