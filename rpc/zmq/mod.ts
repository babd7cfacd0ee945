/**
 * The libzmq transport's shared parts: socket options, CURVE keys, ZAP and
 * monitor event types, and errors. The sockets themselves are `rpc/socket.ts`.
 *
 * @module
 */

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
  Transport,
  ZapHandler,
  ZapRequest,
  ZapVerdict,
} from './types.ts'
export { ClosedError, InvalidArgumentError, NetworkError } from '../../core/errors.ts'
