/**
 * The send queues of a ROUTER: one per peer, so a peer whose pipe is full holds
 * back only its own messages.
 *
 * With ROUTER_MANDATORY, libzmq refuses a message to a full peer with EAGAIN on
 * its first frame (the routing id) and takes nothing; once that frame is taken,
 * the later frames of the message are never refused for being full
 * (`router_t::xsend` checks the high-water mark on the routing id only). So a
 * message is handed over whole or not at all, and peers never interleave frames.
 *
 * @module
 */

import { takeBatch } from '../_batch.ts'
import { EAGAIN, EHOSTUNREACH } from './_constants.ts'
import { Fifo } from '../_fifo.ts'
import type { NativeSocket, SendStatus } from './_native.ts'
import { sendError, type SendErrorReporter, type SendQueue } from './_send_queue.ts'

/** The queued messages of one peer, oldest first; never empty while in the table. */
interface PeerQueue {
  readonly hash: number
  readonly messages: Fifo<Uint8Array[]>
  /** The next peer whose routing id has the same hash. */
  next: PeerQueue | undefined
}

/**
 * FNV-1a of a routing id. Peers are found by this number rather than by a string
 * made of the id: building and hashing a fresh string on every send costs about
 * five times as much.
 */
function hashRoutingId(routingId: Uint8Array): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < routingId.length; i++) hash = Math.imul(hash ^ routingId[i], 0x01000193)
  return hash
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Per-peer queues; every queued peer is either ready or blocked, never both. */
export class PeerSendQueues implements SendQueue {
  /** Every peer with queued messages, by the hash of its routing id, colliding ones chained. */
  #peers = new Map<number, PeerQueue>()
  /** Peers whose next message may go now, in turn order. */
  #ready = new Set<PeerQueue>()
  /** Peers whose pipe was full at the last try. */
  #blocked = new Set<PeerQueue>()
  #length = 0
  #batch: boolean

  /** With `batch`, several messages queued for one peer leave as one batch (see `../_batch.ts`). */
  constructor(batch = false) {
    this.#batch = batch
  }

  get length(): number {
    return this.#length
  }

  get needsRetry(): boolean {
    return this.#blocked.size > 0
  }

  push(frames: Uint8Array[]): void {
    const routingId = frames[0]
    const hash = hashRoutingId(routingId)
    let peer = this.#find(routingId, hash)
    if (peer === undefined) {
      peer = { hash, messages: new Fifo(), next: this.#peers.get(hash) }
      this.#peers.set(hash, peer)
      this.#ready.add(peer)
    }
    peer.messages.push(frames)
    this.#length++
  }

  /** Messages queued for the peer with `routingId`. */
  pendingFor(routingId: Uint8Array): number {
    return this.#find(routingId, hashRoutingId(routingId))?.messages.length ?? 0
  }

  /** Drops the messages queued for the peer with `routingId`; returns how many. */
  drop(routingId: Uint8Array): number {
    const peer = this.#find(routingId, hashRoutingId(routingId))
    if (peer === undefined) return 0
    const count = peer.messages.length
    this.#forget(peer)
    return count
  }

  /** Retries the blocked peers, then serves the ready ones in turn. */
  flush(native: NativeSocket, budget: number, report: SendErrorReporter): number {
    if (this.#blocked.size > 0) {
      for (const peer of this.#blocked) this.#ready.add(peer)
      this.#blocked.clear()
    }
    let handled = 0
    for (const peer of this.#ready) {
      if (handled >= budget) break
      handled += this.#flushPeer(native, peer, budget - handled, report)
    }
    return handled
  }

  clear(): void {
    this.#peers.clear()
    this.#ready.clear()
    this.#blocked.clear()
    this.#length = 0
  }

  /** Sends one peer's messages until its pipe is full, it runs dry or the budget is spent. */
  #flushPeer(
    native: NativeSocket,
    peer: PeerQueue,
    budget: number,
    report: SendErrorReporter,
  ): number {
    let handled = 0
    for (;;) {
      const oldest = peer.messages.peek()
      if (oldest === undefined) return handled // dropped by a callback
      if (handled === budget) {
        // Its turn is over: to the back of the line, so other peers go first next time.
        this.#ready.delete(peer)
        this.#ready.add(peer)
        return handled
      }
      const batch = this.#batch ? takeBatch(peer.messages, 1, budget - handled) : null
      const status = sendMessage(native, batch?.frames ?? oldest)
      if (status === 'again') {
        this.#ready.delete(peer)
        this.#blocked.add(peer)
        return handled
      }
      const count = batch?.count ?? 1
      for (let i = 0; i < count; i++) peer.messages.shift()
      this.#length -= count
      handled += count
      if (status === EHOSTUNREACH) {
        // The peer is gone: what is queued behind would fail the same way.
        const discarded = peer.messages.length + count - 1
        this.#forget(peer)
        report(sendError(oldest, status, discarded))
        return handled
      }
      // Forgotten before any callback runs, so the table never holds an empty queue.
      if (peer.messages.length === 0) this.#forget(peer)
      if (status !== 'sent') report(sendError(oldest, status))
    }
  }

  #find(routingId: Uint8Array, hash: number): PeerQueue | undefined {
    let peer = this.#peers.get(hash)
    // The routing id of a queue is that of its oldest message.
    while (peer !== undefined && !sameBytes(peer.messages.peek()![0], routingId)) peer = peer.next
    return peer
  }

  /** Removes a peer and its messages; safe to repeat, and safe once the id has a new queue. */
  #forget(peer: PeerQueue): void {
    this.#unlink(peer)
    this.#ready.delete(peer)
    this.#blocked.delete(peer)
    this.#length -= peer.messages.length
    peer.messages.clear()
  }

  /** Takes a peer out of its hash chain, if it is still there. */
  #unlink(peer: PeerQueue): void {
    const first = this.#peers.get(peer.hash)
    if (first === peer) {
      if (peer.next === undefined) this.#peers.delete(peer.hash)
      else this.#peers.set(peer.hash, peer.next)
      return
    }
    for (let before = first; before !== undefined; before = before.next) {
      if (before.next === peer) {
        before.next = peer.next
        return
      }
    }
  }
}

/** Hands a whole message to libzmq: `'sent'`, `'again'` (nothing taken) or an errno. */
function sendMessage(native: NativeSocket, frames: Uint8Array[]): SendStatus {
  const last = frames.length - 1
  const first = native.sendFrame(frames[0], last > 0)
  if (first !== 'sent') return first
  for (let i = 1; i <= last; i++) {
    const status = native.sendFrame(frames[i], i < last)
    // A later frame is never refused for a full pipe (see the module comment).
    if (status !== 'sent') return status === 'again' ? EAGAIN : status
  }
  return 'sent'
}
