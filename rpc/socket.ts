/**
 * ROUTER and DEALER sockets on one of two transports with the same behaviour:
 *
 * - `zmtp` (the default): ZMTP 3.1 and CurveZMQ spoken by this library on Deno's
 *   own TCP (`rpc/zmtp`). No native code; needs only `--allow-net`.
 * - `libzmq`: libzmq through Deno FFI (`rpc/zmq`), the reference implementation.
 *   Needs `--allow-ffi` and `--allow-read`; libzmq is loaded on the first socket
 *   of this transport, never by importing the library.
 *
 * Both speak the same wire protocol, so either end may use either transport. The
 * default is `zmtp`, or the value of the environment variable
 * `HULY_NETWORK_TRANSPORT` when the process may read it (`--allow-env`).
 *
 * @module
 */

import { ClosedError, InvalidArgumentError } from '../common/errors.ts'
import { validateOptions } from './_socket_options.ts'
import { LibzmqDealer, LibzmqRouter } from './zmq/socket.ts'
import type { DealerSocketOptions, RouterSocketOptions, Transport } from './zmq/types.ts'
import { ZmtpDealer } from './zmtp/dealer.ts'
import { ZmtpRouter } from './zmtp/router.ts'

const TRANSPORTS: readonly Transport[] = ['zmtp', 'libzmq']

/**
 * The transport a socket uses when its options name none: `HULY_NETWORK_TRANSPORT`
 * when it is set and readable, else `zmtp`.
 *
 * @example
 * ```ts
 * import { defaultTransport } from '@huly/network/rpc'
 * console.log(defaultTransport()) // 'zmtp' unless HULY_NETWORK_TRANSPORT says otherwise
 * ```
 */
export function defaultTransport(): Transport {
  const name = 'HULY_NETWORK_TRANSPORT'
  if (Deno.permissions.querySync({ name: 'env', variable: name }).state !== 'granted') {
    return 'zmtp'
  }
  return parseTransport(Deno.env.get(name) ?? 'zmtp', name)
}

/**
 * Checks a transport name, throwing an {@link InvalidArgumentError} that lists
 * the known ones.
 *
 * @example
 * ```ts
 * import { parseTransport } from '@huly/network/rpc'
 * const transport = parseTransport('libzmq', '--transport')
 * ```
 */
export function parseTransport(value: string, what = 'transport'): Transport {
  if ((TRANSPORTS as readonly string[]).includes(value)) return value as Transport
  throw new InvalidArgumentError(`${what} must be ${TRANSPORTS.join(' or ')}, not "${value}"`)
}

/** What both transports implement. */
interface Backend extends AsyncIterable<Uint8Array[]> {
  readonly closed: boolean
  readonly pendingSends: number
  bind(endpoint: string): string
  connect(endpoint: string): void
  disconnect(endpoint: string): void
  send(frames: Uint8Array[]): void
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array[]>
  close(): Promise<void>
}

/** What a ROUTER of both transports adds. */
interface RouterBackend extends Backend {
  pendingFor(routingId: Uint8Array): number
  dropPeer(routingId: Uint8Array): number
}

/**
 * A ZeroMQ socket: the common part of {@link RouterSocket} and {@link DealerSocket}.
 *
 * @example
 * ```ts
 * import { DealerSocket, type ZmqSocket } from '@huly/network/rpc'
 * const socket: ZmqSocket = new DealerSocket()
 * console.log(socket.transport) // 'zmtp'
 * await socket.close()
 * ```
 */
export abstract class ZmqSocket implements AsyncIterable<Uint8Array[]>, AsyncDisposable {
  /** The transport this socket runs on. */
  readonly transport: Transport
  readonly #backend: Backend

  /** Wraps the socket of the chosen transport. */
  protected constructor(transport: Transport, backend: Backend) {
    this.transport = transport
    this.#backend = backend
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#backend.closed
  }

  /**
   * Binds to an endpoint and returns the endpoint actually bound, for instance
   * `tcp://127.0.0.1:41234` for `tcp://127.0.0.1:0`.
   */
  bind(endpoint: string): string {
    return this.#backend.bind(endpoint)
  }

  /** Connects to an endpoint; the socket connects (and reconnects) in the background. */
  connect(endpoint: string): void {
    this.#backend.connect(endpoint)
  }

  /** Disconnects from an endpoint given to {@link connect} before. */
  disconnect(endpoint: string): void {
    this.#backend.disconnect(endpoint)
  }

  /**
   * Queues a multipart message for sending and returns at once. Messages to one
   * peer leave in the order of the calls; on a ROUTER, a peer that reads slowly
   * holds back only its own messages. A message that cannot be delivered is
   * reported to `onError`. Throws a `ClosedError` once the socket is closed.
   */
  send(frames: Uint8Array[]): void {
    if (this.#backend.closed) throw new ClosedError('socket is closed')
    if (!Array.isArray(frames) || frames.length === 0) {
      throw new InvalidArgumentError('a message needs at least one frame')
    }
    for (const frame of frames) {
      if (!(frame instanceof Uint8Array)) {
        throw new InvalidArgumentError('every frame must be a Uint8Array')
      }
    }
    this.#backend.send(frames)
  }

  /** Messages queued by {@link send} that the transport has not taken yet (for all peers). */
  get pendingSends(): number {
    return this.#backend.pendingSends
  }

  /** Reads messages as they arrive; ends when the socket is closed. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array[]> {
    return this.#backend[Symbol.asyncIterator]()
  }

  /** Closes the socket; idempotent, never hangs; messages still queued here are dropped. */
  close(): Promise<void> {
    return this.#backend.close()
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/**
 * A ROUTER socket: the server side. Each message starts with the routing id of
 * the peer it came from; a reply starts with the routing id of its destination.
 * ROUTER_MANDATORY is on by default (see {@link RouterSocketOptions.mandatory}).
 * Each peer has its own send queue, so a peer that reads slowly delays only its
 * own messages; {@link RouterSocket.pendingFor} and {@link RouterSocket.dropPeer}
 * look at and empty it.
 *
 * @example
 * ```ts
 * import { RouterSocket } from '@huly/network/rpc'
 * const server = new RouterSocket({
 *   onMessage: ([peer, ...body]) => server.send([peer, ...body]),
 * })
 * const endpoint = server.bind('tcp://127.0.0.1:0')
 * console.log('echo server on', endpoint)
 * await server.close()
 * ```
 */
export class RouterSocket extends ZmqSocket {
  readonly #router: RouterBackend

  /** Creates a ROUTER socket on `options.transport`; it does nothing until bound or connected. */
  constructor(options: RouterSocketOptions = {}) {
    validateOptions(options)
    const transport = options.transport === undefined
      ? defaultTransport()
      : parseTransport(options.transport)
    const router = transport === 'libzmq' ? new LibzmqRouter(options) : new ZmtpRouter(options)
    super(transport, router)
    this.#router = router
  }

  /**
   * Messages queued by {@link send} for the peer with `routingId` that the
   * transport has not taken yet; they grow while that peer reads slowly.
   *
   * @example
   * ```ts
   * import { RouterSocket } from '@huly/network/rpc'
   * const router = new RouterSocket({ onError: () => {} })
   * const peer = new TextEncoder().encode('client-1')
   * console.assert(router.pendingFor(peer) === 0)
   * await router.close()
   * ```
   */
  pendingFor(routingId: Uint8Array): number {
    assertRoutingId(routingId)
    return this.#router.pendingFor(routingId)
  }

  /**
   * Discards the messages queued for the peer with `routingId` and returns how
   * many, for instance to give up on a peer that stopped reading. Later sends to
   * the peer are queued afresh.
   *
   * @example
   * ```ts
   * import { RouterSocket } from '@huly/network/rpc'
   * const router = new RouterSocket({ onError: () => {} })
   * const peer = new TextEncoder().encode('slow-client')
   * if (router.pendingFor(peer) > 1000) console.log('dropped', router.dropPeer(peer))
   * await router.close()
   * ```
   */
  dropPeer(routingId: Uint8Array): number {
    assertRoutingId(routingId)
    return this.#router.dropPeer(routingId)
  }
}

/**
 * A DEALER socket: the client side. It sends and receives plain messages; the
 * ROUTER it talks to sees its routing id in front of them.
 *
 * @example
 * ```ts
 * import { DealerSocket } from '@huly/network/rpc'
 * const client = new DealerSocket({ onMessage: (frames) => console.log(frames.length) })
 * client.connect('tcp://127.0.0.1:3737')
 * client.send([new TextEncoder().encode('hello')])
 * await client.close()
 * ```
 */
export class DealerSocket extends ZmqSocket {
  /** Creates a DEALER socket on `options.transport`; it does nothing until bound or connected. */
  constructor(options: DealerSocketOptions = {}) {
    validateOptions(options)
    const transport = options.transport === undefined
      ? defaultTransport()
      : parseTransport(options.transport)
    super(transport, transport === 'libzmq' ? new LibzmqDealer(options) : new ZmtpDealer(options))
  }
}

function assertRoutingId(routingId: Uint8Array): void {
  if (!(routingId instanceof Uint8Array)) {
    throw new InvalidArgumentError('a routing id must be a Uint8Array')
  }
}
