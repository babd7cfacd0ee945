/**
 * One ZMTP 3.x connection over a Deno TCP connection: the greeting, the security
 * handshake, framing, heartbeats and the limits a peer must respect.
 *
 * Reading: one `read()` at a time into a 64 KiB buffer; every complete frame of a
 * read is parsed at once, and the frames of that read share one copy of its bytes
 * (a frame larger than the buffer gets a buffer of its own, allocated only after
 * its size passed the limit). Writing: messages are not written one by one; the
 * owner's queue is encoded into one buffer per turn of the event loop (up to
 * 256 KiB) and written with one call, so a burst costs one syscall, not one per
 * message.
 *
 * @module
 */

import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, type Mechanism, type Metadata } from './_mechanism.ts'
import { command, commandData, commandName } from './_mechanism.ts'

const READ_BUFFER = 64 * 1024
const WRITE_CHUNK = 256 * 1024
const GREETING = 64
/** Handshake commands are small (CURVE's INITIATE with metadata is a few hundred bytes). */
const HANDSHAKE_FRAME = 64 * 1024
const encoder = new TextEncoder()

/** What a connection tells its socket. */
export interface ConnectionOwner {
  /** The handshake completed; the peer's metadata and the ZAP user id. */
  handshakeDone(connection: Connection, metadata: Metadata, userId: string): void
  /** One whole message arrived. */
  received(connection: Connection, frames: Uint8Array[]): void
  /** The peer sent a message of `size` bytes or more, past `limit`: the connection is cut. */
  oversized(connection: Connection, size: number, limit: number): void
  /** The connection is closed; `handshake` when it never completed its handshake. */
  lost(connection: Connection, reason: string, handshake: boolean): void
  /** Encodes queued messages for this connection with `write` until `full()`; returns how many. */
  fill(connection: Connection): number
}

/** Per-connection settings. */
export interface ConnectionSettings {
  /** This side's security mechanism. */
  mechanism: Mechanism
  /** Whether this side is the mechanism's server (`as-server` in the greeting). */
  asServer: boolean
  /** A peer sending a larger message (sum of its frames) is disconnected; -1 for none. */
  maxMessageSize: number
  /** The handshake must complete within this many ms (0: no limit). */
  handshakeMs: number
  /** PING every `interval` ms; drop after `timeout` ms of silence; ask the peer for `ttl`. */
  heartbeat?: { interval: number; timeout: number; ttl: number }
  /** Whether this side's reading is paused (the owner's inbox is full). */
  paused(): boolean
}

/** One ZMTP connection; created by its socket for each accepted or connected TCP stream. */
export class Connection {
  /** The peer's address, such as `tcp://127.0.0.1:41234`. */
  readonly peerAddress: string
  /** The endpoint this connection belongs to (the bound or connected one). */
  readonly endpoint: string
  /** The routing id the owning ROUTER gave the peer (set by the owner). */
  routingId: Uint8Array = new Uint8Array(0)
  /** The owner's key for `routingId`. */
  routingKey = ''
  /** The User-Id the ZAP handler gave this connection. */
  userId = ''
  readonly #conn: Deno.Conn
  readonly #owner: ConnectionOwner
  readonly #settings: ConnectionSettings
  readonly #mechanism: Mechanism
  #ready = false
  #closed = false
  #frames: Uint8Array[] = []
  #messageBytes = 0
  // Writing: an encode buffer, the write in flight, and whether a flush is scheduled.
  #out = new Uint8Array(16 * 1024)
  #outLength = 0
  /** The buffer of the last write, free again once it completed: the next one's. */
  #spare: Uint8Array<ArrayBuffer> | undefined
  #writing = false
  #flushScheduled = false
  #writeDone: Promise<void> = Promise.resolve()
  // Liveness.
  #lastReceived = performance.now()
  #peerTtl = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #ttlTimer: ReturnType<typeof setInterval> | undefined
  #resumeRead: (() => void) | undefined

  /** Wraps `conn`, sends the greeting and starts reading. */
  constructor(
    conn: Deno.Conn,
    endpoint: string,
    owner: ConnectionOwner,
    settings: ConnectionSettings,
  ) {
    this.#conn = conn
    this.endpoint = endpoint
    this.#owner = owner
    this.#settings = settings
    this.#mechanism = settings.mechanism
    const remote = conn.remoteAddr as Deno.NetAddr
    this.peerAddress = `tcp://${remote.hostname}:${remote.port}`
    try {
      ;(conn as Deno.TcpConn).setNoDelay(true)
    } catch {
      // Not a TCP stream (tests may pass other kinds): nothing to tune.
    }
    if (settings.handshakeMs > 0) {
      this.#timer = setTimeout(
        () => this.close(`no handshake within ${settings.handshakeMs} ms`),
        settings.handshakeMs,
      )
    }
    this.#appendRaw(greeting(this.#mechanism.name, settings.asServer))
    this.#schedule()
    this.#readLoop().catch((error) => this.close(`read failed: ${describe(error)}`))
  }

  /** Whether every frame is encrypted (CURVE). */
  get encrypted(): boolean {
    return this.#mechanism.encode !== undefined
  }

  /** Whether the encode buffer holds a full chunk: `fill` should stop. */
  full(): boolean {
    return this.#outLength >= WRITE_CHUNK
  }

  /** Asks for queued messages to be encoded and written soon. */
  kick(): void {
    if (this.#ready && !this.#closed) this.#schedule()
  }

  /** Resumes reading after the owner's inbox drained. */
  resume(): void {
    const resume = this.#resumeRead
    this.#resumeRead = undefined
    resume?.()
  }

  /** Encodes one message (from `fill`) into the write buffer. */
  write(frames: readonly Uint8Array[], from = 0): void {
    const last = frames.length - 1
    const encode = this.#mechanism.encode
    for (let i = from; i <= last; i++) {
      const flags = i < last ? FLAG_MORE : 0
      if (encode === undefined) this.#appendFrame(flags, frames[i])
      else this.#appendFrame(0, encode(flags, frames[i]))
    }
  }

  /** Resolves when what was handed to the OS so far is written (or the connection closed). */
  drained(): Promise<void> {
    return this.#writeDone
  }

  /**
   * Closes the connection once; the owner hears of it with `reason`, as a failed
   * handshake when it closes before the handshake completed or is `refused` right
   * after it (an incompatible peer).
   */
  close(reason: string, refused = false): void {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#timer)
    clearInterval(this.#ttlTimer)
    this.resume()
    try {
      this.#conn.close()
    } catch {
      // Already closed by the peer.
    }
    this.#owner.lost(this, reason, refused || !this.#ready)
  }

  #sendCommand(body: Uint8Array): void {
    const encode = this.#ready ? this.#mechanism.encode : undefined
    if (encode === undefined) this.#appendFrame(FLAG_COMMAND, body)
    else this.#appendFrame(0, encode(FLAG_COMMAND, body))
    this.#schedule()
  }

  #appendFrame(flags: number, payload: Uint8Array): void {
    const long = payload.length > 255
    this.#reserve((long ? 9 : 2) + payload.length)
    const out = this.#out
    let at = this.#outLength
    if (long) {
      out[at] = flags | FLAG_LONG
      const size = payload.length
      out[at + 1] = 0
      out[at + 2] = 0
      out[at + 3] = 0
      out[at + 4] = Math.floor(size / 2 ** 32) & 0xff
      out[at + 5] = size >>> 24
      out[at + 6] = (size >>> 16) & 0xff
      out[at + 7] = (size >>> 8) & 0xff
      out[at + 8] = size & 0xff
      at += 9
    } else {
      out[at] = flags
      out[at + 1] = payload.length
      at += 2
    }
    out.set(payload, at)
    this.#outLength = at + payload.length
  }

  #appendRaw(bytes: Uint8Array): void {
    this.#reserve(bytes.length)
    this.#out.set(bytes, this.#outLength)
    this.#outLength += bytes.length
  }

  #reserve(bytes: number): void {
    const needed = this.#outLength + bytes
    if (needed <= this.#out.length) return
    const grown = new Uint8Array(Math.max(needed, this.#out.length * 2))
    grown.set(this.#out.subarray(0, this.#outLength))
    this.#out = grown
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#writing || this.#closed) return
    this.#flushScheduled = true
    queueMicrotask(() => {
      this.#flushScheduled = false
      if (!this.#writing && !this.#closed) this.#writeDone = this.#writeLoop()
    })
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true
    try {
      for (;;) {
        if (this.#ready) this.#owner.fill(this)
        if (this.#outLength === 0 || this.#closed) return
        const written = this.#out
        const data = written.subarray(0, this.#outLength)
        // The next messages go to the other buffer while this one is being written.
        this.#out = this.#spare ?? new Uint8Array(16 * 1024)
        this.#spare = undefined
        this.#outLength = 0
        let offset = 0
        while (offset < data.length) {
          offset += await this.#conn.write(offset === 0 ? data : data.subarray(offset))
        }
        // A buffer grown for one large message is not kept.
        if (written.length <= 2 * WRITE_CHUNK) this.#spare = written
      }
    } catch (error) {
      this.close(`write failed: ${describe(error)}`)
    } finally {
      this.#writing = false
    }
  }

  async #readLoop(): Promise<void> {
    let buffer = new Uint8Array(READ_BUFFER)
    let filled = 0
    let greeted = false
    for (;;) {
      if (this.#settings.paused()) {
        await new Promise<void>((resolve) => (this.#resumeRead = resolve))
        if (this.#closed) return
      }
      const count = await this.#conn.read(buffer.subarray(filled))
      if (count === null) return this.close('the peer closed the connection')
      if (this.#closed) return
      this.#lastReceived = performance.now()
      filled += count
      let offset = 0
      if (!greeted) {
        if (filled >= 11 && (buffer[0] !== 0xff || buffer[9] !== 0x7f || buffer[10] < 3)) {
          return this.close('not a ZMTP 3 peer (bad greeting)')
        }
        if (filled < GREETING) continue
        const problem = this.#checkGreeting(buffer.subarray(0, GREETING))
        if (problem !== '') return this.close(problem)
        greeted = true
        offset = GREETING
        this.#start(this.#mechanism.start())
        if (this.#closed) return
      }
      // Frames entirely in the buffer share one copy of it; a frame that is not is read on.
      const chunk = offset < filled ? buffer.slice(offset, filled) : buffer.subarray(0, 0)
      let at = 0
      while (at < chunk.length && !this.#closed) {
        const header = frameHeader(chunk, at)
        if (header === null) break
        const { flags, size, start } = header
        if (!this.#withinLimit(size)) return
        if (!this.#ready && size > HANDSHAKE_FRAME) {
          return this.close(`a handshake command of ${size} bytes`)
        }
        const end = start + size
        if (end > chunk.length) {
          if (end - at <= buffer.length) break
          // A large frame: read the rest straight into a buffer of its own.
          const frame = new Uint8Array(size)
          frame.set(chunk.subarray(start))
          let got = chunk.length - start
          while (got < size) {
            const more = await this.#conn.read(frame.subarray(got))
            if (more === null) return this.close('the peer closed the connection')
            got += more
          }
          this.#lastReceived = performance.now()
          at = chunk.length
          await this.#frame(flags, frame)
          break
        }
        at = end
        const step = this.#frame(flags, chunk.subarray(start, end))
        if (step !== undefined) await step
      }
      // Move what is left (part of a frame) to the front.
      const rest = chunk.length - at
      if (rest > 0) buffer.set(chunk.subarray(at), 0)
      filled = rest
      if (buffer.length < READ_BUFFER) buffer = new Uint8Array(READ_BUFFER)
    }
  }

  #checkGreeting(bytes: Uint8Array): string {
    const name = new TextDecoder().decode(bytes.subarray(12, 32)).replace(/\0+$/, '')
    if (name !== this.#mechanism.name) {
      return `security mechanism mismatch: the peer uses ${
        name || '(none)'
      }, this side ${this.#mechanism.name}`
    }
    // libzmq sends as-server 0 even as a CURVE server, so that byte is not checked.
    return ''
  }

  /** Checks a frame's size before anything is allocated for it. */
  #withinLimit(size: number): boolean {
    const max = this.#settings.maxMessageSize
    if (max >= 0 && this.#messageBytes + size > max) {
      this.#owner.oversized(this, this.#messageBytes + size, max)
      this.close(`a message of more than ${max} bytes`)
      return false
    }
    return true
  }

  /** Handles one frame; returns a promise only while a handshake step is pending. */
  #frame(flags: number, body: Uint8Array): Promise<void> | undefined {
    if (!this.#ready) {
      if ((flags & FLAG_COMMAND) === 0) {
        this.close('a message before the handshake completed')
        return undefined
      }
      return this.#handshake(body)
    }
    let payload = body
    const decode = this.#mechanism.decode
    if (decode !== undefined) {
      try {
        ;({ flags, payload } = decode(body))
      } catch (error) {
        this.close(`a message that did not decrypt: ${describe(error)}`)
        return undefined
      }
    }
    if ((flags & FLAG_COMMAND) !== 0) {
      this.#command(payload)
      return undefined
    }
    this.#frames.push(payload)
    this.#messageBytes += payload.length
    if ((flags & FLAG_MORE) !== 0) return undefined
    const frames = this.#frames
    this.#frames = []
    this.#messageBytes = 0
    this.#owner.received(this, frames)
    return undefined
  }

  async #handshake(body: Uint8Array): Promise<void> {
    const step = await this.#mechanism.receive(body)
    if (this.#closed) return
    this.#start(step)
  }

  #start(step: { send: Uint8Array[]; ready?: Metadata; error?: string; userId?: string }): void {
    for (const body of step.send) this.#appendFrame(FLAG_COMMAND, body)
    this.#schedule()
    if (step.error !== undefined) {
      // Let the ERROR command leave before the connection closes.
      const reason = step.error
      this.#writeDoneAfterSchedule().then(() => this.close(reason))
      return
    }
    if (step.ready === undefined) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#ready = true
    this.userId = step.userId ?? ''
    this.#startHeartbeats()
    this.#owner.handshakeDone(this, step.ready, this.userId)
    this.#schedule()
  }

  async #writeDoneAfterSchedule(): Promise<void> {
    await Promise.resolve()
    await this.#writeDone
  }

  #command(body: Uint8Array): void {
    const name = commandName(body)
    const data = commandData(body)
    if (name === 'PING') {
      if (data.length < 2) return this.close('malformed PING')
      this.#peerTtl = ((data[0] << 8) | data[1]) * 100
      // A peer's TTL is enforced by our own heartbeat timer, or by one at its resolution.
      if (this.#peerTtl > 0 && this.#settings.heartbeat === undefined) {
        this.#ttlTimer ??= setInterval(() => this.#checkTtl(), this.#peerTtl)
      }
      const context = data.subarray(2, 18)
      this.#sendCommand(command('PONG', context))
    } else if (name === 'ERROR') {
      this.close('the peer sent ERROR')
    }
    // PONG and unknown commands only prove the peer is alive.
  }

  #startHeartbeats(): void {
    const heartbeat = this.#settings.heartbeat
    if (heartbeat === undefined) return
    const ttl = encodeTtl(heartbeat.ttl)
    this.#timer = setInterval(() => {
      const silent = performance.now() - this.#lastReceived
      if (silent > heartbeat.interval + heartbeat.timeout) {
        return this.close(`no traffic for ${Math.round(silent)} ms (heartbeat timeout)`)
      }
      if (!this.#checkTtl()) return
      this.#sendCommand(command('PING', ttl))
    }, heartbeat.interval)
  }

  /** Closes the connection when the peer's TTL passed without traffic; false then. */
  #checkTtl(): boolean {
    if (this.#peerTtl <= 0) return true
    const silent = performance.now() - this.#lastReceived
    if (silent <= this.#peerTtl) return true
    this.close(`no traffic for ${Math.round(silent)} ms (the peer's TTL)`)
    return false
  }
}

/** The flags, size and payload offset of the frame at `at`, or null when incomplete. */
function frameHeader(
  bytes: Uint8Array,
  at: number,
): { flags: number; size: number; start: number } | null {
  if (at + 2 > bytes.length) return null
  const flags = bytes[at]
  if ((flags & FLAG_LONG) === 0) return { flags, size: bytes[at + 1], start: at + 2 }
  if (at + 9 > bytes.length) return null
  const high = (bytes[at + 1] << 24 | bytes[at + 2] << 16 | bytes[at + 3] << 8 | bytes[at + 4]) >>>
    0
  const low = (bytes[at + 5] << 24 | bytes[at + 6] << 16 | bytes[at + 7] << 8 | bytes[at + 8]) >>>
    0
  // Sizes past 2^53 are reported as infinite: the limit check refuses them.
  const size = high >= 0x200000 ? Number.POSITIVE_INFINITY : high * 2 ** 32 + low
  return { flags, size, start: at + 9 }
}

/** The 64-byte ZMTP 3.1 greeting. */
function greeting(mechanism: string, asServer: boolean): Uint8Array {
  const bytes = new Uint8Array(GREETING)
  bytes[0] = 0xff
  bytes[9] = 0x7f
  bytes[10] = 3
  bytes[11] = 1
  bytes.set(encoder.encode(mechanism), 12)
  bytes[32] = asServer ? 1 : 0
  return bytes
}

/** A PING's TTL field: deciseconds, 2 bytes big-endian. */
function encodeTtl(ms: number): Uint8Array {
  const ds = Math.min(0xffff, Math.floor(ms / 100))
  return Uint8Array.of(ds >> 8, ds & 0xff)
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
