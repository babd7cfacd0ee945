/**
 * References to containers: each holds a lease that keeps its container alive.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import { ClosedError, ContainerNotFoundError, InvalidArgumentError } from '../common/errors.ts'
import type { Remote } from '../core/proxy.ts'
import type {
  ContainerKind,
  ContainerRecord,
  ContainerUuid,
  EndpointRef,
  GetOptions,
  NetworkEvent,
} from '../core/types.ts'
import type { RequestOptions } from '../rpc/session.ts'
import { castRequests, type ClientInternals, notRunHere } from './_internals.ts'
import {
  ConnectionImpl,
  type ContainerConnection,
  type ContainerEventHandler,
} from './connection.ts'

const logger = getLogger(['huly-network', 'client'])

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

/** One reference of a client; the client keeps the table of references by uuid. */
export class ReferenceImpl implements ContainerReference {
  #record: ContainerRecord
  #stale = false
  #closed = false
  #reacquiring: Promise<void> | undefined
  readonly #connections = new Set<ConnectionImpl>()
  readonly #client: ClientInternals
  readonly #options: GetOptions

  constructor(
    client: ClientInternals,
    readonly kind: ContainerKind,
    options: GetOptions,
    record: ContainerRecord,
  ) {
    this.#client = client
    this.#options = options
    this.#record = record
  }

  get uuid(): ContainerUuid {
    return this.#record.uuid
  }

  get endpoint(): EndpointRef {
    return this.#record.endpoint
  }

  get record(): ContainerRecord {
    return { ...this.#record }
  }

  /** The container was removed: the next use re-acquires it. */
  get stale(): boolean {
    return this.#stale
  }

  async request(operation: string, data?: unknown, options?: RequestOptions): Promise<unknown> {
    if (this.#closed) throw new ClosedError(`the reference to "${this.uuid}" is closed`)
    if (this.#stale) await this.reacquire()
    return await this.requestThroughNetwork(operation, data, options)
  }

  /** A routed request; one that did not run because the container was gone is sent again. */
  async requestThroughNetwork(
    operation: string,
    data: unknown,
    options?: RequestOptions,
  ): Promise<unknown> {
    try {
      return await this.#client.routedRequest(undefined, this.uuid, operation, data, options)
    } catch (error) {
      if (!notRunHere(error)) throw error
      if (error instanceof ContainerNotFoundError) await this.reacquire()
      return await this.#client.routedRequest(undefined, this.uuid, operation, data, options)
    }
  }

  async connect(options: ConnectOptions = {}): Promise<ContainerConnection> {
    if (this.#closed) throw new ClosedError(`the reference to "${this.uuid}" is closed`)
    if (options.on !== undefined && typeof options.on !== 'function') {
      throw new InvalidArgumentError('on must be a function')
    }
    if (options.onMoved !== undefined && typeof options.onMoved !== 'function') {
      throw new InvalidArgumentError('onMoved must be a function')
    }
    if (this.#stale) await this.reacquire()
    const connection = new ConnectionImpl(this.#client, this, options.onMoved)
    connection.on = options.on
    await connection.open()
    this.#connections.add(connection)
    return connection
  }

  cast<T extends object>(interfaceName?: string): Remote<T> {
    return castRequests<T>((operation, data) => this.request(operation, data), interfaceName)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#client.forget(this)
    for (const connection of [...this.#connections]) await connection.close()
    await this.#client.release(this.uuid)
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** A closed connection leaves this reference. */
  forgetConnection(connection: ConnectionImpl): void {
    this.#connections.delete(connection)
  }

  /** A network event about this container. */
  observe(type: string, record: ContainerRecord): void {
    if (type === 'removed') {
      this.#stale = true
      this.revive()
      return
    }
    const moved = record.agentId !== this.#record.agentId ||
      JSON.stringify(record.endpoint) !== JSON.stringify(this.#record.endpoint)
    // Back after a removal it is a new instance, even at the same place.
    const revived = this.#stale
    this.#record = record
    this.#stale = false
    if ((moved || revived) && this.#connections.size > 0) {
      void this.#client.follow(this.uuid, record)
    }
  }

  /**
   * A removed container with open connections is got again at once (a request
   * would do it, but a connection only listening never asks), and again whenever an
   * agent registers while it cannot be placed.
   */
  revive(): void {
    if (this.#closed || !this.#stale || this.#connections.size === 0) return
    this.reacquire().catch((error) =>
      logger.info(
        '{uuid} is not placed again yet ({message}); trying again when an agent registers',
        {
          uuid: this.uuid,
          message: error instanceof Error ? error.message : String(error),
        },
      )
    )
  }

  /** Gets the container again with the same uuid and options (it died, or the network restarted). */
  reacquire(): Promise<void> {
    this.#reacquiring ??= (async () => {
      try {
        const options = { ...this.#options, uuid: this.uuid }
        const record = await this.#client.acquire(this.kind, options)
        this.observe('added', record)
      } finally {
        this.#reacquiring = undefined
      }
    })()
    return this.#reacquiring
  }
}

/** A client's open references by container uuid (a reference's uuid never changes). */
export class ReferenceTable {
  readonly #byUuid = new Map<ContainerUuid, Set<ReferenceImpl>>()

  /** Every open reference. */
  all(): ReferenceImpl[] {
    return [...this.#byUuid.values()].flatMap((same) => [...same])
  }

  add(reference: ReferenceImpl): void {
    let same = this.#byUuid.get(reference.uuid)
    if (same === undefined) this.#byUuid.set(reference.uuid, same = new Set())
    same.add(reference)
  }

  /** A closed reference leaves the table. */
  forget(reference: ReferenceImpl): void {
    const same = this.#byUuid.get(reference.uuid)
    same?.delete(reference)
    if (same?.size === 0) this.#byUuid.delete(reference.uuid)
  }

  /**
   * A network event: each reference follows its container's changes, and when an
   * agent came, containers removed while connections to them are open are got again.
   */
  observe(event: NetworkEvent): void {
    for (const change of event.containers) {
      for (const reference of this.#byUuid.get(change.container.uuid) ?? []) {
        reference.observe(change.type, change.container)
      }
    }
    if (event.agents.some((change) => change.type !== 'removed')) {
      for (const reference of this.all()) reference.revive()
    }
  }

  clear(): void {
    this.#byUuid.clear()
  }
}
