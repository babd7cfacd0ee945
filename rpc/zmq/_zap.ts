/**
 * The ZAP handler of one context: a REP socket on `inproc://zeromq.zap.01`,
 * watched by the reactor, that asks a {@link ZapHandler} about every connection.
 *
 * @module
 */

import { getLogger } from '@logtape/logtape'
import { ZMQ_LINGER, ZMQ_POLLIN, ZMQ_REP } from './_constants.ts'
import { NativeSocket } from './_native.ts'
import { type Pollable, reactor } from './_reactor.ts'
import { z85Encode } from '../curve_keys.ts'
import type { ZapHandler, ZapRequest, ZapVerdict } from './types.ts'

const logger = getLogger(['huly-network', 'zmq'])
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Serves ZAP requests of one context, one at a time (REP is strictly alternating). */
export class ZapServer implements Pollable {
  readonly fd: number
  #rep: NativeSocket
  #handler: ZapHandler
  #frames: Uint8Array[] = []
  #busy = false
  #closed = false

  /** Binds the ZAP endpoint of `context`; must run before the served socket binds. */
  constructor(context: Deno.PointerObject, handler: ZapHandler) {
    this.#rep = new NativeSocket(context, ZMQ_REP)
    this.#rep.setInt(ZMQ_LINGER, 0)
    this.#rep.bind('inproc://zeromq.zap.01')
    this.fd = this.#rep.fd
    this.#handler = handler
  }

  /** Answers every request that is ready; pauses while an async answer is pending. */
  pump(): void {
    while (!this.#busy && !this.#closed && (this.#rep.events() & ZMQ_POLLIN) !== 0) {
      const frames = this.#receive()
      if (frames === null) return
      this.#answer(frames)
    }
  }

  #receive(): Uint8Array[] | null {
    for (;;) {
      const frame = this.#rep.receiveFrame()
      if (frame === null) return null
      this.#frames.push(frame)
      if (this.#rep.more) continue
      const frames = this.#frames
      this.#frames = []
      return frames
    }
  }

  #answer(frames: Uint8Array[]): void {
    const requestId = frames[1] ?? new Uint8Array(0)
    const request = parseRequest(frames)
    if (request === null) {
      this.#reply(requestId, false)
      return
    }
    let verdict: ZapVerdict | Promise<ZapVerdict>
    try {
      verdict = this.#handler(request)
    } catch (error) {
      logger.warn('ZAP handler threw, connection refused: {error}', { error })
      verdict = false
    }
    if (!(verdict instanceof Promise)) {
      this.#reply(requestId, verdict)
      return
    }
    this.#busy = true
    verdict.catch((error) => {
      logger.warn('ZAP handler rejected, connection refused: {error}', { error })
      return false
    }).then((settled) => {
      this.#busy = false
      if (this.#closed) return
      this.#reply(requestId, settled)
      reactor.schedule(this)
    })
  }

  #reply(requestId: Uint8Array, verdict: ZapVerdict): void {
    const allowed = verdict === true || (typeof verdict === 'object' && verdict !== null)
    const userId = allowed && typeof verdict === 'object' ? String(verdict.userId) : ''
    const reply = [
      encoder.encode('1.0'),
      requestId,
      encoder.encode(allowed ? '200' : '400'),
      encoder.encode(allowed ? 'OK' : 'Refused by ZAP handler'),
      encoder.encode(userId),
      new Uint8Array(0),
    ]
    reply.forEach((frame, index) => this.#rep.sendFrame(frame, index < reply.length - 1))
  }

  /** Closes the REP socket. */
  close(): void {
    this.#closed = true
    this.#rep.close()
  }
}

/** Parses a ZAP 1.0 request: version, id, domain, address, identity, mechanism, credentials. */
function parseRequest(frames: Uint8Array[]): ZapRequest | null {
  if (frames.length < 6 || decoder.decode(frames[0]) !== '1.0') return null
  const mechanism = decoder.decode(frames[5])
  const request: ZapRequest = {
    domain: decoder.decode(frames[2]),
    address: decoder.decode(frames[3]),
    routingId: frames[4],
    mechanism,
  }
  if (mechanism === 'CURVE' && frames[6]?.length === 32) request.publicKey = z85Encode(frames[6])
  return request
}
