// A client's link to the coordinator: it connects and reconnects by itself, and every
// message of the client to the coordinator goes out through its `call`.
import { getLogger } from '@logtape/logtape'
import { NotConnectedError, TimeoutError } from '../common/errors.ts'
import type { NetworkOperations, ParamsOf, ResultOf } from '../core/operations.ts'
import { NetworkOperation, type RouteMeta } from '../core/protocol.ts'
import { RpcClient, type RpcClientOptions } from '../rpc/client.ts'
import { decode, encode } from '../rpc/codec.ts'
import type { RequestOptions } from '../rpc/session.ts'
import { exchange } from './_internals.ts'
import { ClientMetrics } from './_metrics.ts'

const logger = getLogger(['huly-network', 'client'])

/** Options of one message to the coordinator ({@link CoordinatorLink.call}). */
export interface CallOptions extends RequestOptions {
  /**
   * A message that keeps the client's state at the coordinator (connect, disconnect,
   * a release at close, unregister): sent as it is, with no wait for a first
   * connection and no span.
   */
  bookkeeping?: boolean
}

/** How a client links to its coordinator. */
export interface CoordinatorLinkOptions {
  /** The coordinator's address as the application gave it (for errors). */
  address: string
  /** Its endpoint, `tcp://host:port`. */
  endpoint: string
  /** The options every link of the client shares (clock, id, credentials, timings, transport). */
  base: RpcClientOptions
  /** How long a call waits for the first connection. */
  connectTimeoutMs: number
  /** Serves the coordinator's requests to the agents this client registered. */
  handler: NonNullable<RpcClientOptions['handler']>
  /** Events the coordinator pushes. */
  onEvent: NonNullable<RpcClientOptions['onEvent']>
  /** The link came back after it was lost (not called for the first connection). */
  onReconnect: () => void
  /** The application's `onConnectionChange`. */
  onConnectionChange?: (connected: boolean, reason?: string) => void
}

/** The link of one client to the coordinator. */
export class CoordinatorLink {
  /** The rpc client under it. */
  readonly rpc: RpcClient
  readonly #options: CoordinatorLinkOptions
  readonly #createdAt: number
  #everConnected = false

  constructor(options: CoordinatorLinkOptions) {
    this.#options = options
    const clock = options.base.clock
    this.#createdAt = clock.now()
    this.rpc = new RpcClient(options.endpoint, {
      ...options.base,
      handler: options.handler,
      onEvent: options.onEvent,
      onConnect: (first) => {
        this.#everConnected = true
        if (!first) {
          ClientMetrics.get()?.reconnect()
          options.onReconnect()
        }
        this.#notifyConnection(true)
      },
      onBusy: (direction) => {
        if (direction === 'received') ClientMetrics.get()?.busy()
      },
      onDisconnect: (reason) => this.#notifyConnection(false, reason),
    })
  }

  /**
   * Sends `operation` of the coordinator's table with its typed `params` and
   * resolves with its typed result; see {@link CoordinatorLink.send}.
   */
  async call<Op extends keyof NetworkOperations>(
    operation: Op,
    params: ParamsOf<Op>,
    options: CallOptions = {},
  ): Promise<ResultOf<Op>> {
    return decode(await this.send(operation, encode(params), options)) as ResultOf<Op>
  }

  /** A routed request: `data` goes to the container `meta` names, its answer comes back. */
  async request(data: unknown, options: CallOptions & { meta: RouteMeta }): Promise<unknown> {
    return decode(await this.send(NetworkOperation.request, encode(data), options))
  }

  /**
   * Every message to the coordinator goes out here. Until the first connection a
   * call waits for it (at most the connect timeout); a routed request
   * (`options.meta` names its container) is counted in the metrics and its span
   * names the container.
   */
  async send(operation: string, body: Uint8Array, options: CallOptions): Promise<Uint8Array> {
    const { bookkeeping = false, ...request } = options
    if (!bookkeeping && !this.#everConnected) await this.#reachable()
    const meta = request.meta as RouteMeta | undefined
    return await exchange({
      rpc: this.rpc,
      operation,
      body,
      options: request,
      clientId: this.#options.base.clientId,
      meta,
      traced: !bookkeeping,
      counted: meta !== undefined,
    })
  }

  #notifyConnection(connected: boolean, reason?: string): void {
    try {
      this.#options.onConnectionChange?.(connected, reason)
    } catch (error) {
      logger.error('onConnectionChange failed: {error}', { error })
    }
  }

  /** Before the first connection, waits for it at most the connect timeout. */
  async #reachable(): Promise<void> {
    const { address, connectTimeoutMs, base } = this.#options
    try {
      await this.rpc.waitConnection(connectTimeoutMs)
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error
      const since = ((base.clock.now() - this.#createdAt) / 1000).toFixed(1)
      throw new NotConnectedError(
        `cannot reach the coordinator at ${address} within ${connectTimeoutMs} ms (trying for ${since} s)`,
      )
    }
  }
}
