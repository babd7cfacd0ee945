// Where a client's connections go: direct links to agent endpoints, or the network
// (through the coordinator), and which connections are open at each place. The
// container is told of a connect once per client and place, however many
// connections share them, and of the disconnect when the last one there closes.
import { getLogger } from '@logtape/logtape'
import { ContainerNotFoundError } from '../common/errors.ts'
import { ContainerOperation, type ContainerParams, NetworkOperation } from '../core/protocol.ts'
import type { ContainerRecord, ContainerUuid, EndpointRef } from '../core/types.ts'
import { RpcClient, type RpcClientOptions } from '../rpc/client.ts'
import { decode, encode } from '../rpc/codec.ts'
import type { CurveClientOptions } from '../rpc/zmq/types.ts'
import type { ConnectionImpl } from './connection.ts'

const logger = getLogger(['huly-network', 'client'])

/** How long the disconnect from a place a connection left is awaited. */
const DISCONNECT_TIMEOUT_MS = 1000

/** What the direct links need of their client. */
export interface LinkHost {
  /** The options every link of the client shares (clock, id, credentials, timings, transport). */
  readonly base: RpcClientOptions
  /** Events that came over the direct link to `address`. */
  onEvent(topic: string, meta: unknown, body: Uint8Array, address: string): void
  /** Tells the container, through the coordinator, of a connect or a disconnect. */
  viaNetwork(
    operation: typeof NetworkOperation.connect | typeof NetworkOperation.disconnect,
    params: ContainerParams,
    timeoutMs?: number,
  ): Promise<unknown>
}

/** The direct links of one client and the connections open at each place. */
export class DirectLinks {
  readonly #host: LinkHost
  readonly #links = new Map<string, RpcClient>()
  readonly #connections = new Map<ContainerUuid, Set<ConnectionImpl>>()

  constructor(host: LinkHost) {
    this.#host = host
  }

  /** The direct link to `address`, when it is open. */
  get(address: string | undefined): RpcClient | undefined {
    return address === undefined ? undefined : this.#links.get(address)
  }

  /**
   * The transport a connection to `endpoint` uses: a direct link, or the network.
   * A client with keys links directly only to endpoints that encrypt (their public
   * key is in the record), one without keys only to those that do not.
   */
  link(endpoint: EndpointRef): string | undefined {
    if (endpoint.kind === 'network') return undefined
    const { base } = this.#host
    const curve = base.socket?.curve as CurveClientOptions | undefined
    if ((curve === undefined) !== (endpoint.publicKey === undefined)) return undefined
    const address = endpoint.address
    if (!this.#links.has(address)) {
      const link: RpcClient = new RpcClient(address, {
        ...base,
        socket: curve === undefined
          ? base.socket
          : { ...base.socket, curve: { ...curve, serverKey: endpoint.publicKey! } },
        onEvent: (topic, meta, body) => this.#host.onEvent(topic, meta, body, address),
        onConnect: (first) => {
          if (!first) this.reconnect(address)
        },
      })
      this.#links.set(address, link)
    }
    return address
  }

  /** Hands a container's event that came over `via` to the connections there. */
  deliver(uuid: ContainerUuid | undefined, via: string | undefined, body: Uint8Array): void {
    const states = uuid === undefined ? undefined : this.#connections.get(uuid)
    if (states === undefined) return
    const data = decode(body)
    for (const connection of states) if (connection.via === via) connection.deliver(data)
  }

  /**
   * Adds a connection at its current place (`connection.via`); the container is
   * told once per client and place, however many connections share them.
   */
  async attach(connection: ConnectionImpl): Promise<void> {
    const { uuid, via } = connection
    let set = this.#connections.get(uuid)
    if (set === undefined) this.#connections.set(uuid, set = new Set())
    const shared = [...set].some((other) => other.via === via)
    set.add(connection)
    if (shared) return
    try {
      await this.#connectOn(via, uuid, true)
    } catch (error) {
      set.delete(connection)
      this.#closeUnusedLink(via)
      throw error
    }
  }

  /** Removes a connection from the place `via`; the last one there disconnects. */
  async detach(connection: ConnectionImpl, via: string | undefined): Promise<void> {
    const uuid = connection.uuid
    const set = this.#connections.get(uuid)
    if (set === undefined || !set.delete(connection)) return
    if (set.size === 0) this.#connections.delete(uuid)
    if ([...set].some((other) => other.via === via)) return
    await this.#connectOn(via, uuid, false, DISCONNECT_TIMEOUT_MS).catch((error) =>
      logger.debug('disconnect from {uuid} failed: {error}', { uuid, error })
    )
    this.#closeUnusedLink(via)
  }

  /**
   * The container `uuid` moved, or was placed again (a new instance, perhaps at the
   * same place): every connection to it goes to its new place at once. Each place it
   * was connected at is told of the disconnect and the new place of the connect, once
   * for all the connections; on one link the two are sent, and run, in that order, so
   * a container back at the same place ends connected. A direct link still retrying the
   * new place (its agent restarted there) dials at once, so the connect reaches the new
   * agent now. Once the container took the connect, `onMoved` handlers are told.
   */
  async follow(uuid: ContainerUuid, record: ContainerRecord): Promise<void> {
    const set = this.#connections.get(uuid)
    if (set === undefined || set.size === 0) return
    const connections = [...set]
    const previous = new Set(connections.map((connection) => connection.via))
    const via = this.link(record.endpoint)
    for (const connection of connections) connection.via = via
    for (const old of previous) {
      this.#connectOn(old, uuid, false, DISCONNECT_TIMEOUT_MS)
        .catch((error) => logger.debug('disconnect from {uuid} failed: {error}', { uuid, error }))
        .finally(() => this.#closeUnusedLink(old))
    }
    const connected = this.#connectOn(via, uuid, true)
    if (via !== undefined) this.#links.get(via)?.redial()
    try {
      await connected
    } catch (error) {
      // The connections stay: the next placement, or reconnect of the link, tries again.
      logger.warn('following {uuid} failed: {error}', { uuid, error })
      return
    }
    for (const connection of connections) connection.reopened(record)
  }

  /** The place `via` is back (a link reconnected, or the coordinator): its containers are told again. */
  async reconnect(via: string | undefined): Promise<void> {
    for (const [uuid, connections] of this.#connections) {
      if ([...connections].some((connection) => connection.via === via)) {
        await this.#connectOn(via, uuid, true).catch((error) => {
          // A container that is gone is got again from its removal event.
          if (error instanceof ContainerNotFoundError) {
            logger.info('{uuid} is gone from its agent; it is got again', { uuid })
          } else logger.warn('reconnecting to {uuid} failed: {error}', { uuid, error })
        })
      }
    }
  }

  /** Forgets every connection and closes every link. */
  async close(): Promise<void> {
    this.#connections.clear()
    await Promise.all([...this.#links.values()].map((client) => client.close()))
  }

  /** A direct link nobody uses any more is closed, so a dead agent is not retried forever. */
  #closeUnusedLink(via: string | undefined): void {
    if (via === undefined) return
    for (const set of this.#connections.values()) {
      for (const connection of set) if (connection.via === via) return
    }
    const link = this.#links.get(via)
    this.#links.delete(via)
    void link?.close()
  }

  #connectOn(
    via: string | undefined,
    uuid: ContainerUuid,
    connect: boolean,
    timeoutMs?: number,
  ): Promise<unknown> {
    const link = this.get(via)
    if (link === undefined) {
      const operation = connect ? NetworkOperation.connect : NetworkOperation.disconnect
      return this.#host.viaNetwork(operation, { uuid }, timeoutMs)
    }
    const operation = connect ? ContainerOperation.connect : ContainerOperation.disconnect
    return link.request(operation, encode({ uuid }), { timeoutMs })
  }
}
