/**
 * What configures an rpc server and what it reports: its options, the handshake a
 * client sends, and the counters of what it refused.
 *
 * @module
 */
import type { TickManager } from '../common/clock.ts'
import type { RpcLimits } from './limits.ts'
import type { RequestHandler, RpcSession, SessionOptions } from './session.ts'
import type { RouterSocketOptions, Transport } from './zmq/types.ts'

/**
 * What a client says in its handshake.
 *
 * @example
 * ```ts
 * import type { Hello } from '@huly/network/rpc'
 * const hello: Hello = {
 *   clientId: 'c1',
 *   version: 1,
 *   aliveMs: 3000,
 *   credentials: undefined,
 *   resume: false,
 *   instance: crypto.randomUUID(),
 * }
 * ```
 */
export interface Hello {
  /** The client's id, stable across its reconnects. */
  clientId: string
  /** Its protocol version. */
  version: number
  /** The liveness timeout it asks for, in milliseconds. */
  aliveMs: number
  /** Credentials, for authentication. */
  credentials: unknown
  /** The client was connected before, to this server or to one that died. */
  resume: boolean
  /** Unique per client object; a new one means the client restarted. */
  instance: string
  /**
   * The identity the ZAP handler gave the client's connection (its `User-Id`, with
   * `socket.readUserId`); `''` or absent without one. Not sent by the client.
   */
  userId?: string
}

/**
 * Options of an {@link RpcServer}.
 *
 * @example
 * ```ts
 * import { TickManagerImpl } from '@huly/network/core'
 * import type { RpcServerOptions } from '@huly/network/rpc'
 * const options: RpcServerOptions = {
 *   clock: new TickManagerImpl(10),
 *   handler: (request) => Promise.resolve(request.body),
 * }
 * ```
 */
export interface RpcServerOptions extends SessionOptions {
  /** The clock for liveness and deadlines. */
  clock: TickManager
  /** Serves every request of every client. */
  handler: RequestHandler
  /** The id the server gives in its welcome. */
  serverId?: string
  /**
   * A client silent for longer than this is dropped (3000 ms). A client that asks
   * for longer in its hello (`aliveMs`) is given that, up to 60 s.
   */
  aliveTimeoutMs?: number
  /**
   * Messages that may wait for one client, beyond what libzmq holds for it
   * (100 000): a client that still has more waiting at a liveness check, or ten
   * times more at any time, does not keep up and is disconnected with a logged
   * reason, never left half-fed.
   */
  maxQueuedPerClient?: number
  /** How often liveness is checked (1000 ms). */
  checkIntervalMs?: number
  /**
   * Called when a client completes a handshake; `resumed` when this server still
   * had its session.
   */
  onSession?: (session: RpcSession, resumed: boolean, hello: Hello) => void
  /** Called when a client's session ends (silent, said bye, or the server closed). */
  onSessionClosed?: (session: RpcSession, reason: string) => void
  /** Receives events that clients send. */
  onEvent?: (session: RpcSession, topic: string, meta: unknown, body: Uint8Array) => void
  /** Called for each ping of a client with a session (after the pong is sent). */
  onPing?: (session: RpcSession) => void
  /** Checks a handshake; throwing refuses the client with that error. */
  authenticate?: (hello: Hello) => void
  /**
   * The id a client's session is known by (its `peerId`), after `authenticate`;
   * the hello's client id when absent. A server with keys puts the peer's name in
   * it, so a client id chosen by one key can never name another key's session.
   */
  peerIdOf?: (hello: Hello) => string
  /** Options of the ROUTER socket (CURVE, ZAP, limits). */
  socket?: Omit<RouterSocketOptions, 'onMessage'>
  /** The socket transport (`zmtp` or `libzmq`); the default of `defaultTransport()` when absent. */
  transport?: Transport
  /** Limits against hostile peers (see `docs/limits.md`); each has a default. */
  limits?: RpcLimits
}

/**
 * Counters of what the server refused or dropped.
 *
 * @example
 * ```ts
 * import type { RpcServerStats } from '@huly/network/rpc'
 * const stats: RpcServerStats = { malformed: 0, rejected: 0, dropped: 0, slow: 0, refused: {} }
 * ```
 */
export interface RpcServerStats {
  /** Messages that could not be parsed. */
  malformed: number
  /** Handshakes refused, and messages from peers without a session. */
  rejected: number
  /** Sessions dropped because their peer fell silent. */
  dropped: number
  /** Sessions dropped because their peer could not keep up with what was sent to it. */
  slow: number
  /** Input refused by each limit (`docs/limits.md`), by the limit's name. */
  refused: Record<string, number>
}
