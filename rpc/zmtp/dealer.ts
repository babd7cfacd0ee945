// The native DEALER: one queue that survives reconnects, shared by its connections in turn.
import { Fifo } from '../_fifo.ts'
import type { DealerSocketOptions } from '../zmq/types.ts'
import type { Connection } from './_connection.ts'
import { ZmtpSocket } from './socket.ts'

/**
 * A ZMTP DEALER over Deno TCP. See `DealerSocket` for the behaviour; this is its
 * native implementation. With several connections, messages go to them in turn.
 */
export class ZmtpDealer extends ZmtpSocket {
  readonly #queue = new Fifo<Uint8Array[]>()
  readonly #ready: Connection[] = []
  #turn = 0

  /** Creates the DEALER; it does nothing until bound or connected. */
  constructor(options: DealerSocketOptions = {}) {
    super('DEALER', options)
  }

  /** Messages queued and not yet written. */
  get pendingSends(): number {
    return this.#queue.length
  }

  protected compatible(type: string): boolean {
    return type === 'ROUTER' || type === 'REP' || type === 'DEALER'
  }

  protected attach(connection: Connection): boolean {
    this.#ready.push(connection)
    connection.kick()
    return true
  }

  protected detach(connection: Connection): void {
    const index = this.#ready.indexOf(connection)
    if (index >= 0) this.#ready.splice(index, 1)
  }

  protected route(frames: Uint8Array[]): void {
    this.#queue.push(frames)
    const count = this.#ready.length
    if (count === 0) return
    this.#turn = (this.#turn + 1) % count
    this.#ready[this.#turn].kick()
  }

  fill(connection: Connection): number {
    return this.encode(connection, this.#queue, 0)
  }

  protected clearQueues(): void {
    this.#queue.clear()
  }
}
