/**
 * The socket options both transports take, checked once, before either creates
 * anything.
 *
 * @module
 */

import { InvalidArgumentError } from '../common/errors.ts'
import { assertZ85Key } from './curve_keys.ts'
import type { SocketOptions } from './zmq/types.ts'

const encoder = new TextEncoder()

const MAX_INT32 = 2 ** 31 - 1

function assertCount(value: number | undefined, name: string, min = 0): void {
  if (value === undefined) return
  if (!Number.isInteger(value) || value < min || value > MAX_INT32) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${MAX_INT32}`)
  }
}

/** Checks the options before anything is created. */
export function validateOptions(options: SocketOptions): void {
  assertCount(options.linger, 'linger')
  assertCount(options.sendHighWaterMark, 'sendHighWaterMark')
  assertCount(options.receiveHighWaterMark, 'receiveHighWaterMark')
  if (options.maxMessageSize !== undefined && options.maxMessageSize !== -1) {
    assertCount(options.maxMessageSize, 'maxMessageSize')
  }
  assertCount(options.handshakeInterval, 'handshakeInterval')
  if (options.routingId !== undefined) {
    const id = routingIdBytes(options.routingId)
    if (id.length < 1 || id.length > 255 || id[0] === 0) {
      throw new InvalidArgumentError('routingId must be 1..255 bytes and not start with 0')
    }
  }
  if (typeof options.tcpKeepalive === 'object') {
    assertCount(options.tcpKeepalive.idle, 'tcpKeepalive.idle', 1)
    assertCount(options.tcpKeepalive.interval, 'tcpKeepalive.interval', 1)
    assertCount(options.tcpKeepalive.count, 'tcpKeepalive.count', 1)
  }
  if (options.heartbeat !== undefined) {
    assertCount(options.heartbeat.interval, 'heartbeat.interval', 1)
    assertCount(options.heartbeat.timeout, 'heartbeat.timeout', 1)
    assertCount(options.heartbeat.ttl, 'heartbeat.ttl', 0)
    if ((options.heartbeat.ttl ?? 0) > 6553599) {
      throw new InvalidArgumentError('heartbeat.ttl must be at most 6553599 ms')
    }
  }
  const curve = options.curve
  if (curve !== undefined) {
    if ('serverKey' in curve) {
      assertZ85Key(curve.serverKey, 'curve.serverKey')
      if ((curve.publicKey === undefined) !== (curve.secretKey === undefined)) {
        throw new InvalidArgumentError('curve.publicKey and curve.secretKey go together')
      }
      if (curve.publicKey !== undefined) assertZ85Key(curve.publicKey, 'curve.publicKey')
      if (curve.secretKey !== undefined) assertZ85Key(curve.secretKey, 'curve.secretKey')
    } else {
      assertZ85Key(curve.secretKey, 'curve.secretKey')
    }
  }
  if (options.batch !== undefined && typeof options.batch !== 'boolean') {
    throw new InvalidArgumentError('batch must be a boolean')
  }
  if (options.transport !== undefined && !['zmtp', 'libzmq'].includes(options.transport)) {
    throw new InvalidArgumentError('transport must be zmtp or libzmq')
  }
  for (const name of ['onMessage', 'onEvent', 'onError', 'zapHandler'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new InvalidArgumentError(`${name} must be a function`)
    }
  }
}

/** The bytes of a routing id given as a string or bytes. */
export function routingIdBytes(id: Uint8Array | string): Uint8Array {
  return typeof id === 'string' ? encoder.encode(id) : id
}

/** A string key for a routing id, for maps. */
export function keyOf(routingId: Uint8Array): string {
  let key = ''
  for (let i = 0; i < routingId.length; i++) key += String.fromCharCode(routingId[i])
  return key
}
