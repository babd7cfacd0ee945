/**
 * The transport of Huly Network, with no knowledge of containers: the ZeroMQ socket
 * layer (ROUTER and DEALER sockets over the libzmq C API through Deno FFI), the
 * MessagePack codec, and a bidirectional request/response and event protocol
 * ({@link RpcServer}, {@link RpcClient}, {@link RpcSession}) with handshakes,
 * liveness, deadlines, cancellation, re-sending and "busy" push-back.
 *
 * Needs `--allow-ffi` and `--allow-read` (see {@link RouterSocket}); optionally
 * `--allow-env=HULY_LIBZMQ_PATH` to load libzmq from that path.
 *
 * @module
 */

export { ClosedError, InvalidArgumentError, NetworkError } from '../common/errors.ts'
export { curveKeyPair, curvePublicKey } from './curve_keys.ts'
export { LibzmqLoadError, PeerUnreachableError } from './zmq/errors.ts'
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
} from './zmq/types.ts'
export {
  DealerSocket,
  defaultTransport,
  parseTransport,
  RouterSocket,
  ZmqSocket,
} from './socket.ts'
export { decode, encode } from './codec.ts'
export { PROTOCOL_VERSION } from './_frames.ts'
export { MAX_MESSAGE_BYTES } from './_message_size.ts'
export { RpcClient, type RpcClientOptions } from './client.ts'
export { defaultLimits, type RpcLimits } from './limits.ts'
export { RpcServer } from './server.ts'
export type { Hello, RpcServerOptions, RpcServerStats } from './server_options.ts'
export {
  type IncomingRequest,
  type RequestHandler,
  type RequestOptions,
  RpcSession,
  type SessionOptions,
} from './session.ts'
