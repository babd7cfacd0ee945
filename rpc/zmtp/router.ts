// The native ROUTER: one queue per peer, routing ids, ROUTER_MANDATORY and hand-over.
import { InvalidArgumentError } from '../../common/errors.ts'
import { Fifo } from '../_fifo.ts'
import { PeerUnreachableError } from '../zmq/errors.ts'
import type { RouterSocketOptions } from '../zmq/types.ts'
import type { Connection } from './_connection.ts'
import { ZmtpSocket } from './socket.ts'
import { keyOf } from '../_socket_options.ts'

/** A peer of a ROUTER: its connection (none yet for an unknown id) and the messages waiting for it. */
interface RouterPeer {
  connection: Connection | undefined
  queue: Fifo<Uint8Array[]>
}

/**
 * A ZMTP ROUTER over Deno TCP: each message starts with the routing id of its
 * peer. See `RouterSocket` for the behaviour; this is its native implementation.
 */
export class ZmtpRouter extends ZmtpSocket {
  readonly #peers = new Map<string, RouterPeer>()
  readonly #mandatory: boolean
  readonly #handover: boolean
  #nextId = crypto.getRandomValues(new Uint32Array(1))[0]
  #pending = 0
  #unknownCheck = false

  /** Creates the ROUTER; it does nothing until bound or connected. */
  constructor(options: RouterSocketOptions = {}) {
    super('ROUTER', options)
    this.#mandatory = options.mandatory !== false
    this.#handover = options.handover === true
  }

  /** Messages queued and not yet written, for all peers. */
  get pendingSends(): number {
    return this.#pending
  }

  /** Messages queued for the peer with `routingId` and not yet written. */
  pendingFor(routingId: Uint8Array): number {
    return this.#peers.get(keyOf(routingId))?.queue.length ?? 0
  }

  /** Drops the messages queued for the peer with `routingId`; returns how many. */
  dropPeer(routingId: Uint8Array): number {
    const peer = this.#peers.get(keyOf(routingId))
    if (peer === undefined) return 0
    const count = peer.queue.length
    peer.queue.clear()
    this.#pending -= count
    return count
  }

  protected compatible(type: string): boolean {
    return type === 'DEALER' || type === 'REQ' || type === 'ROUTER'
  }

  protected attach(connection: Connection, identity: Uint8Array | undefined): boolean {
    let routingId = identity !== undefined && identity.length > 0 ? identity : undefined
    if (routingId === undefined) {
      const id = new Uint8Array(5)
      new DataView(id.buffer).setUint32(1, this.#nextId++ >>> 0)
      routingId = id
    }
    const key = keyOf(routingId)
    const existing = this.#peers.get(key)
    if (existing?.connection !== undefined) {
      if (!this.#handover) {
        connection.close('routing id already in use')
        return false
      }
      existing.connection.routingKey = ''
      existing.connection.close('routing id taken over by a new connection')
    }
    connection.routingId = routingId
    connection.routingKey = key
    this.#peers.set(key, { connection, queue: existing?.queue ?? new Fifo() })
    return true
  }

  protected detach(connection: Connection): void {
    const peer = this.#peers.get(connection.routingKey)
    if (peer === undefined || peer.connection !== connection) return
    this.#peers.delete(connection.routingKey)
    this.#unreachable(peer)
  }

  protected route(frames: Uint8Array[]): void {
    if (frames.length < 2) {
      throw new InvalidArgumentError('a ROUTER message needs a routing id and a body')
    }
    const key = keyOf(frames[0])
    let peer = this.#peers.get(key)
    if (peer === undefined) {
      if (!this.#mandatory) return
      // As libzmq: queued now, reported unreachable when the queue is next drained.
      peer = { connection: undefined, queue: new Fifo() }
      this.#peers.set(key, peer)
      if (!this.#unknownCheck) {
        this.#unknownCheck = true
        queueMicrotask(() => this.#dropUnknown())
      }
    }
    peer.queue.push(frames)
    this.#pending++
    peer.connection?.kick()
  }

  fill(connection: Connection): number {
    const peer = this.#peers.get(connection.routingKey)
    if (peer === undefined || peer.connection !== connection) return 0
    const count = this.encode(connection, peer.queue, 1)
    this.#pending -= count
    return count
  }

  protected clearQueues(): void {
    this.#peers.clear()
    this.#pending = 0
  }

  /** Reports the queues of peers that are not connected, once each, and drops them. */
  #dropUnknown(): void {
    this.#unknownCheck = false
    for (const [key, peer] of this.#peers) {
      if (peer.connection !== undefined) continue
      this.#peers.delete(key)
      this.#unreachable(peer)
    }
  }

  /** One `PeerUnreachableError` for what was queued for a peer that is gone. */
  #unreachable(peer: RouterPeer): void {
    const first = peer.queue.shift()
    if (first === undefined) return
    const discarded = peer.queue.length
    peer.queue.clear()
    this.#pending -= discarded + 1
    if (this.#mandatory) this.report(new PeerUnreachableError(first[0], first, discarded))
  }
}
