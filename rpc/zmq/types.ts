/**
 * Public types of the ZeroMQ socket layer: options, events and ZAP requests.
 *
 * @module
 */

import type { NetworkError } from '../../common/errors.ts'

/** CURVE settings of a socket that accepts encrypted connections (a server). */
export interface CurveServerOptions {
  /** The server's secret key, 40 Z85 characters. */
  secretKey: string
}

/** CURVE settings of a socket that connects to a CURVE server (a client). */
export interface CurveClientOptions {
  /** The server's public key, 40 Z85 characters. */
  serverKey: string
  /** The client's public key; with `secretKey`. A fresh pair is made when both are absent. */
  publicKey?: string
  /** The client's secret key; with `publicKey`. */
  secretKey?: string
}

/** TCP keepalive settings (times in seconds); the OS defaults apply to what is absent. */
export interface TcpKeepaliveOptions {
  /** Idle seconds before the first probe. */
  idle?: number
  /** Seconds between probes. */
  interval?: number
  /** Unanswered probes before the connection is dropped. */
  count?: number
}

/** ZMTP heartbeats (times in milliseconds). */
export interface HeartbeatOptions {
  /** Send a PING every `interval` ms. */
  interval: number
  /** Drop the connection when no traffic arrived for `timeout` ms after a PING; default `interval`. */
  timeout?: number
  /** Ask the peer to drop the connection after `ttl` ms without traffic (0.1 s resolution). */
  ttl?: number
}

export type { CurveKeyPair } from '../curve_keys.ts'

/** A ZAP (ZeroMQ authentication protocol) request about one incoming connection. */
export interface ZapRequest {
  /** The ZAP domain of the server socket (`zapDomain`), `''` when none. */
  domain: string
  /** The peer's IP address. */
  address: string
  /** The routing id of the connecting peer, often empty. */
  routingId: Uint8Array
  /** The security mechanism: `NULL`, `PLAIN` or `CURVE`. */
  mechanism: string
  /** The client's CURVE public key (40 Z85 characters); only for `CURVE`. */
  publicKey?: string
}

/**
 * A ZAP answer: `true` allows, `false` refuses, `{ userId }` allows and names the
 * peer; every message of that connection then carries the `User-Id` (see
 * `SocketOptions.readUserId`).
 *
 * @example
 * ```ts
 * import type { ZapRequest, ZapVerdict } from '@huly/network/rpc'
 * const known = new Set<string>()
 * const decide = (request: ZapRequest): ZapVerdict =>
 *   request.publicKey !== undefined && known.has(request.publicKey)
 *     ? { userId: request.publicKey }
 *     : false
 * ```
 */
export type ZapVerdict = boolean | { userId: string }

/** Decides whether a connection may proceed; a throw refuses it. */
export type ZapHandler = (request: ZapRequest) => ZapVerdict | Promise<ZapVerdict>

/** The kinds of socket monitor events. */
export type SocketEventType =
  | 'connected'
  | 'connect-delayed'
  | 'connect-retried'
  | 'listening'
  | 'bind-failed'
  | 'accepted'
  | 'accept-failed'
  | 'closed'
  | 'close-failed'
  | 'disconnected'
  | 'monitor-stopped'
  | 'handshake-succeeded'
  | 'handshake-failed'

/** One socket monitor event. */
export interface SocketEvent {
  /** What happened. */
  type: SocketEventType
  /** The endpoint it happened on, such as `tcp://127.0.0.1:5555`. */
  endpoint: string
  /** The raw event value of libzmq (an fd, an errno, a ZAP status or a protocol error). */
  value: number
  /** For failures, why, in words (for instance `security mechanism mismatch`). */
  reason?: string
}

/**
 * The implementation of the ZeroMQ sockets: `zmtp`, ZMTP spoken by this library
 * on Deno's TCP (no native code), or `libzmq` through FFI. Both interoperate.
 *
 * @example
 * ```ts
 * import type { Transport } from '@huly/network/rpc'
 * const transport: Transport = 'zmtp'
 * ```
 */
export type Transport = 'zmtp' | 'libzmq'

/** Options of a ROUTER or DEALER socket. */
export interface SocketOptions {
  /** The transport (see {@link Transport}); `defaultTransport()` when absent. */
  transport?: Transport
  /**
   * Milliseconds libzmq keeps trying to deliver messages it already accepted after
   * `close()`; default 0. Must be finite so that closing never hangs.
   */
  linger?: number
  /** Maximum messages queued in libzmq per peer for sending (`ZMQ_SNDHWM`); default 1000. */
  sendHighWaterMark?: number
  /** Maximum messages queued in libzmq per peer for receiving (`ZMQ_RCVHWM`); default 1000. */
  receiveHighWaterMark?: number
  /** Peers sending a larger message (bytes) are disconnected (`ZMQ_MAXMSGSIZE`); default no limit. */
  maxMessageSize?: number
  /**
   * Milliseconds a new connection has to complete the ZMTP handshake before it is
   * closed (`ZMQ_HANDSHAKE_IVL`); libzmq's default is 30 000, 0 waits forever.
   */
  handshakeInterval?: number
  /** The routing id this socket presents to a ROUTER it connects to (1..255 bytes, not starting with 0). */
  routingId?: Uint8Array | string
  /** TCP keepalive: `true` for the OS timings, or explicit timings. */
  tcpKeepalive?: boolean | TcpKeepaliveOptions
  /** ZMTP heartbeats, to detect dead peers on idle connections. */
  heartbeat?: HeartbeatOptions
  /** CURVE encryption: a server (`secretKey`) or a client (`serverKey`). */
  curve?: CurveServerOptions | CurveClientOptions
  /**
   * Called for every incoming connection with the peer's credentials. The socket
   * then gets its own libzmq context, whose ZAP endpoint it serves.
   */
  zapHandler?: ZapHandler
  /**
   * Sends several small messages queued for one peer as one ZeroMQ message, and
   * unpacks such messages on receipt: fewer FFI calls, libzmq messages and
   * wake-ups per message under load; order and message boundaries are kept.
   * Both ends must set it (the rpc layer does); default `false`.
   */
  batch?: boolean
  /** The ZAP domain; with the NULL mechanism ZAP is only asked when a domain is set. */
  zapDomain?: string
  /**
   * Receives every message, with the `User-Id` its connection got from the ZAP
   * handler when `readUserId` is set (`''` otherwise). When absent, messages are
   * read with `for await`; a socket with neither reads nothing, and libzmq's
   * high-water marks push back.
   */
  onMessage?: (frames: Uint8Array[], userId: string) => void
  /**
   * Reads the `User-Id` of every message received (one libzmq call per message)
   * and passes it to `onMessage`, so a server can tell which authenticated peer
   * sent each message, whatever its routing id.
   */
  readUserId?: boolean
  /** Receives the socket's monitor events (connected, disconnected, handshake failed, ...). */
  onEvent?: (event: SocketEvent) => void
  /** Receives errors that concern one message or the socket, such as a `PeerUnreachableError`. */
  onError?: (error: NetworkError) => void
}

/** Options of a ROUTER socket. */
export interface RouterSocketOptions extends SocketOptions {
  /**
   * `ZMQ_ROUTER_MANDATORY`; default `true`: a message to an unknown peer is reported
   * as a `PeerUnreachableError`, and messages to a peer whose pipe is full wait in
   * that peer's queue (see `RouterSocket.pendingFor`) instead of being dropped.
   */
  mandatory?: boolean
  /** `ZMQ_ROUTER_HANDOVER`: a new connection with a routing id in use takes it over. */
  handover?: boolean
}

/** Options of a DEALER socket. */
export type DealerSocketOptions = SocketOptions
