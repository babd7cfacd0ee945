/**
 * The ZeroMQ socket layer: ROUTER and DEALER sockets for Deno over the libzmq C
 * API, CURVE keys, ZAP and monitor events. See `socket.ts` for how it works and
 * which permissions it needs.
 *
 * @module
 */

export { DealerSocket, RouterSocket, ZmqSocket } from './socket.ts'
export { curveKeyPair, curvePublicKey } from './curve.ts'
export { LibzmqLoadError, PeerUnreachableError } from './errors.ts'
export type {
  CurveClientOptions,
  CurveKeyPair,
  CurveServerOptions,
  DealerSocketOptions,
  HeartbeatOptions,
  RouterSocketOptions,
  SocketEvent,
  SocketEventType,
  SocketOptions,
  TcpKeepaliveOptions,
  ZapHandler,
  ZapRequest,
  ZapVerdict,
} from './types.ts'
export { ClosedError, InvalidArgumentError, NetworkError } from '../../core/errors.ts'
