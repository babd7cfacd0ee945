/**
 * Numeric constants of the libzmq 4.x C API (values from `zmq.h`) and the few
 * errno values this layer branches on.
 *
 * @module
 */

export const ZMQ_PAIR = 0
export const ZMQ_REP = 4
export const ZMQ_DEALER = 5
export const ZMQ_ROUTER = 6

export const ZMQ_ROUTING_ID = 5
export const ZMQ_FD = 14
export const ZMQ_EVENTS = 15
export const ZMQ_LINGER = 17
export const ZMQ_MAXMSGSIZE = 22
export const ZMQ_SNDHWM = 23
export const ZMQ_RCVHWM = 24
export const ZMQ_LAST_ENDPOINT = 32
export const ZMQ_ROUTER_MANDATORY = 33
export const ZMQ_TCP_KEEPALIVE = 34
export const ZMQ_TCP_KEEPALIVE_CNT = 35
export const ZMQ_TCP_KEEPALIVE_IDLE = 36
export const ZMQ_TCP_KEEPALIVE_INTVL = 37
export const ZMQ_CURVE_SERVER = 47
export const ZMQ_CURVE_PUBLICKEY = 48
export const ZMQ_CURVE_SECRETKEY = 49
export const ZMQ_CURVE_SERVERKEY = 50
export const ZMQ_ZAP_DOMAIN = 55
export const ZMQ_ROUTER_HANDOVER = 56
export const ZMQ_HANDSHAKE_IVL = 66
export const ZMQ_HEARTBEAT_IVL = 75
export const ZMQ_HEARTBEAT_TTL = 76
export const ZMQ_HEARTBEAT_TIMEOUT = 77

export const ZMQ_DONTWAIT = 1
export const ZMQ_SNDMORE = 2

export const ZMQ_POLLIN = 1
export const ZMQ_POLLOUT = 2

export const ZMQ_EVENT_CONNECTED = 0x0001
export const ZMQ_EVENT_CONNECT_DELAYED = 0x0002
export const ZMQ_EVENT_CONNECT_RETRIED = 0x0004
export const ZMQ_EVENT_LISTENING = 0x0008
export const ZMQ_EVENT_BIND_FAILED = 0x0010
export const ZMQ_EVENT_ACCEPTED = 0x0020
export const ZMQ_EVENT_ACCEPT_FAILED = 0x0040
export const ZMQ_EVENT_CLOSED = 0x0080
export const ZMQ_EVENT_CLOSE_FAILED = 0x0100
export const ZMQ_EVENT_DISCONNECTED = 0x0200
export const ZMQ_EVENT_MONITOR_STOPPED = 0x0400
export const ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL = 0x0800
export const ZMQ_EVENT_HANDSHAKE_SUCCEEDED = 0x1000
export const ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL = 0x2000
export const ZMQ_EVENT_HANDSHAKE_FAILED_AUTH = 0x4000
export const ZMQ_EVENT_ALL = 0xffff

/** `ZMQ_PROTOCOL_ERROR_*` values reported with a protocol handshake failure. */
export const PROTOCOL_ERRORS: ReadonlyMap<number, string> = new Map([
  [0x10000000, 'ZMTP unspecified error'],
  [0x10000001, 'ZMTP unexpected command'],
  [0x10000002, 'ZMTP invalid sequence'],
  [0x10000003, 'ZMTP key exchange failed'],
  [0x10000011, 'ZMTP malformed command'],
  [0x10000012, 'ZMTP malformed MESSAGE command'],
  [0x10000013, 'ZMTP malformed HELLO command'],
  [0x10000014, 'ZMTP malformed INITIATE command'],
  [0x10000015, 'ZMTP malformed ERROR command'],
  [0x10000016, 'ZMTP malformed READY command'],
  [0x10000017, 'ZMTP malformed WELCOME command'],
  [0x10000018, 'ZMTP invalid metadata'],
  [0x11000001, 'cryptographic error (wrong key?)'],
  [0x11000002, 'security mechanism mismatch'],
  [0x20000000, 'ZAP unspecified error'],
  [0x20000001, 'ZAP malformed reply'],
  [0x20000002, 'ZAP bad request id'],
  [0x20000003, 'ZAP bad version'],
  [0x20000004, 'ZAP invalid status code'],
  [0x20000005, 'ZAP invalid metadata'],
])

const ZMQ_HAUSNUMERO = 156384712
const DARWIN = Deno.build.os === 'darwin'

/** errno: resource temporarily unavailable (would block). */
export const EAGAIN: number = DARWIN ? 35 : 11
/** errno: interrupted system call. */
export const EINTR = 4
/** errno: a ROUTER_MANDATORY socket has no peer with that routing id. */
export const EHOSTUNREACH: number = DARWIN ? 65 : 113
/** errno: the context of the socket was terminated. */
export const ETERM: number = ZMQ_HAUSNUMERO + 53
