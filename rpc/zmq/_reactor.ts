/**
 * One readiness loop for every socket of the process.
 *
 * A single libc `poll()` over the `ZMQ_FD` of every registered socket runs on a
 * worker thread (`nonblocking` FFI), so the JS thread is never blocked and an idle
 * process sleeps in the kernel: no timers, no busy loop. When it returns, the
 * sockets whose fd fired are pumped on the JS thread. `ZMQ_FD` is edge-triggered,
 * so a pump always drains and re-reads `ZMQ_EVENTS` before the next wait.
 *
 * The set of fds changes (a socket opens or closes) through a wake-up: an inproc
 * PAIR whose fd is always in the set. A socket is only closed after the poll that
 * could see its fd has returned.
 *
 * When a pump is already pending (a socket ran out of budget, or `send()` asked for
 * one), the reactor looks at the fds with a zero-timeout `poll()` on the JS thread
 * instead: handing a call to the worker thread and back costs 30–40 µs here. It
 * then yields to the event loop once (a `MessageChannel` message, about 5 µs) so
 * timers and other I/O still run between rounds.
 *
 * A socket with work no fd will announce (a ROUTER peer whose pipe was full) asks
 * for a retry after some milliseconds; the poll then waits no longer than the
 * earliest such deadline. With no retry asked for, it waits on the fds alone.
 *
 * @module
 */

import { getLogger } from '@logtape/logtape'
import { ZMQ_PAIR, ZMQ_POLLIN } from './_constants.ts'
import { libcPoll } from './_ffi.ts'
import { NativeSocket, sharedContext } from './_native.ts'

const logger = getLogger(['huly-network', 'zmq'])

/** Something the reactor watches: a fd and the synchronous work to do when it fires. */
export interface Pollable {
  /** The fd to wait on (a `ZMQ_FD`). */
  readonly fd: number
  /** Does all ready work without waiting. */
  pump(): void
}

const POLLIN = 0x001
const POLLFD_SIZE = 8

class Reactor {
  #watched = new Set<Pollable>()
  #pending = new Set<Pollable>()
  /** Pollables to pump by a deadline (`performance.now()` ms) even if their fd stays quiet. */
  #retries = new Map<Pollable, number>()
  #running = false
  #inPoll: Promise<number> | null = null
  /** When the poll in flight returns by itself: `Infinity`, a time, or 0 (it does not wait). */
  #pollEnds = 0
  #wakeReceiver: NativeSocket | null = null
  #wakeSender: NativeSocket | null = null
  #wakePending = false
  #changed = true
  #fds = new Uint8Array(0)
  #view = new DataView(this.#fds.buffer)
  #order: Pollable[] = []
  #yieldChannel: MessageChannel | null = null
  #resume: (() => void) | null = null

  /** Starts watching a pollable and pumps it once soon. */
  add(pollable: Pollable): void {
    this.#watched.add(pollable)
    this.#changed = true
    this.schedule(pollable)
    if (!this.#running) this.#start()
  }

  /** Stops watching; resolves once no poll in flight can still see its fd. */
  async remove(pollable: Pollable): Promise<void> {
    if (!this.#watched.delete(pollable)) return
    this.#pending.delete(pollable)
    this.#retries.delete(pollable)
    this.#changed = true
    const inPoll = this.#inPoll
    if (inPoll === null) return
    this.#wake()
    await inPoll
  }

  /** Asks for a pump of `pollable` without waiting for its fd (it has work left). */
  schedule(pollable: Pollable): void {
    this.#pending.add(pollable)
    if (this.#pollEnds > 0) this.#wake()
  }

  /** Asks for a pump of `pollable` within `ms`, whether or not its fd fires. */
  retryAfter(pollable: Pollable, ms: number): void {
    const at = performance.now() + ms
    const asked = this.#retries.get(pollable)
    if (asked !== undefined && asked <= at) return
    this.#retries.set(pollable, at)
    if (at < this.#pollEnds) this.#wake()
  }

  #wake(): void {
    if (this.#wakePending || this.#wakeSender === null) return
    this.#wakePending = true
    this.#wakeSender.sendFrame(new Uint8Array(0), false)
  }

  #start(): void {
    this.#running = true
    this.#ensureWakeSockets()
    this.#run().catch((error) => {
      logger.error('zmq reactor stopped: {error}', { error })
      this.#running = false
    })
  }

  #ensureWakeSockets(): void {
    if (this.#wakeReceiver !== null) return
    const context = sharedContext().handle
    const endpoint = `inproc://huly-network-reactor-wake-${crypto.randomUUID()}`
    this.#wakeReceiver = new NativeSocket(context, ZMQ_PAIR)
    this.#wakeReceiver.bind(endpoint)
    this.#wakeSender = new NativeSocket(context, ZMQ_PAIR)
    this.#wakeSender.connect(endpoint)
  }

  async #run(): Promise<void> {
    const { poll, pollNow } = libcPoll()
    while (this.#watched.size > 0) {
      if (this.#changed) this.#rebuild()
      const count = BigInt(this.#order.length + 1)
      const timeout = this.#timeout()
      if (timeout === 0) {
        // Work is pending: look at the fds on this thread, which costs no hand-off.
        pollNow(this.#fds, count, 0)
      } else {
        this.#pollEnds = timeout < 0 ? Infinity : performance.now() + timeout
        const inPoll = poll(this.#fds, count, timeout)
        this.#inPoll = inPoll
        await inPoll
        this.#inPoll = null
        this.#pollEnds = 0
      }
      this.#pumpReady()
      // Lets timers and other I/O run between rounds of pending work.
      if (timeout === 0) await this.#yield()
    }
    this.#closeYield()
    this.#running = false
  }

  /** Lets the event loop run its timers and other I/O once, without a timer's delay. */
  #yield(): Promise<void> {
    if (this.#yieldChannel === null) {
      this.#yieldChannel = new MessageChannel()
      this.#yieldChannel.port1.onmessage = () => {
        const resume = this.#resume
        this.#resume = null
        resume?.()
      }
    }
    const channel = this.#yieldChannel
    return new Promise((resolve) => {
      this.#resume = resolve
      channel.port2.postMessage(null)
    })
  }

  /** Closes the channel of `#yield`: an open one would keep the process alive. */
  #closeYield(): void {
    this.#yieldChannel?.port1.close()
    this.#yieldChannel?.port2.close()
    this.#yieldChannel = null
  }

  /** Pumps what the last poll found ready, what was scheduled and what retries fell due. */
  #pumpReady(): void {
    this.#drainWake()
    const ready = this.#pending
    this.#pending = new Set()
    if (this.#retries.size > 0) this.#takeDueRetries(ready)
    for (let i = 0; i < this.#order.length; i++) {
      if (this.#view.getInt16((i + 1) * POLLFD_SIZE + 6, true) !== 0) ready.add(this.#order[i])
    }
    for (const pollable of ready) {
      if (!this.#watched.has(pollable)) continue
      try {
        pollable.pump()
      } catch (error) {
        logger.error('zmq socket pump failed: {error}', { error })
      }
    }
  }

  /** The poll timeout in ms: 0 with pumps pending, until the earliest retry, or -1 (none). */
  #timeout(): number {
    if (this.#pending.size > 0) return 0
    if (this.#retries.size === 0) return -1
    let earliest = Infinity
    for (const at of this.#retries.values()) earliest = Math.min(earliest, at)
    return Math.max(0, Math.ceil(earliest - performance.now()))
  }

  #takeDueRetries(ready: Set<Pollable>): void {
    const now = performance.now()
    for (const [pollable, at] of this.#retries) {
      if (at > now) continue
      this.#retries.delete(pollable)
      ready.add(pollable)
    }
  }

  #rebuild(): void {
    this.#changed = false
    this.#order = [...this.#watched]
    this.#fds = new Uint8Array(Math.max(64, (this.#order.length + 1) * POLLFD_SIZE))
    this.#view = new DataView(this.#fds.buffer)
    const wakeFd = (this.#wakeReceiver as NativeSocket).fd
    this.#setEntry(0, wakeFd)
    this.#order.forEach((pollable, index) => this.#setEntry(index + 1, pollable.fd))
  }

  #setEntry(index: number, fd: number): void {
    this.#view.setInt32(index * POLLFD_SIZE, fd, true)
    this.#view.setInt16(index * POLLFD_SIZE + 4, POLLIN, true)
  }

  #drainWake(): void {
    const receiver = this.#wakeReceiver as NativeSocket
    this.#wakePending = false
    // Edge-triggered fd: read until ZMQ_EVENTS says nothing is left.
    while ((receiver.events() & ZMQ_POLLIN) !== 0) {
      while (receiver.receiveFrame() !== null) {
        // Wake-ups carry no data.
      }
    }
  }
}

/** The reactor of this process. */
export const reactor: Reactor = new Reactor()
