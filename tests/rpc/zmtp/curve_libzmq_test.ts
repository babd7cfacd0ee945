// Our CURVE mechanisms against libzmq's on real TCP connections: a libzmq ROUTER
// and our client mechanism, a libzmq DEALER and our server mechanism, with a
// minimal ZMTP 3.1 greeting and frame codec written here.
import assert from 'node:assert/strict'
import {
  curveKeyPair,
  DealerSocket,
  RouterSocket,
  type ZapRequest,
  type ZapVerdict,
} from '../../../rpc/mod.ts'
import { z85Decode } from '../../../rpc/curve_keys.ts'
import { curveClientMechanism, curveServerMechanism } from '../../../rpc/zmtp/_curve.ts'
import {
  FLAG_COMMAND,
  FLAG_LONG,
  FLAG_MORE,
  type HandshakeStep,
  type Mechanism,
  type Metadata,
} from '../../../rpc/zmtp/_mechanism.ts'
import { bytes, closeAll, closeAtEnd, deferred, text, within } from '../_helpers.ts'

const encoder = new TextEncoder()

/** The 64-byte ZMTP 3.1 greeting of a CURVE peer. */
function greeting(asServer: boolean): Uint8Array {
  const out = new Uint8Array(64)
  out[0] = 0xff
  out[9] = 0x7f
  out[10] = 3
  out[11] = 1
  out.set(encoder.encode('CURVE'), 12)
  out[32] = asServer ? 1 : 0
  return out
}

interface Frame {
  flags: number
  body: Uint8Array
}

/** Exact reads and frame writes over one TCP connection. */
class Wire {
  #buffered = new Uint8Array(0)
  constructor(readonly conn: Deno.TcpConn) {}

  /** Reads exactly `size` bytes; `null` when the peer closes first. */
  async read(size: number): Promise<Uint8Array | null> {
    while (this.#buffered.length < size) {
      const chunk = new Uint8Array(65536)
      const count = await this.conn.read(chunk).catch(() => null)
      if (count === null) return null
      const joined = new Uint8Array(this.#buffered.length + count)
      joined.set(this.#buffered)
      joined.set(chunk.subarray(0, count), this.#buffered.length)
      this.#buffered = joined
    }
    const out = this.#buffered.slice(0, size)
    this.#buffered = this.#buffered.subarray(size)
    return out
  }

  async readFrame(): Promise<Frame | null> {
    const head = await this.read(1)
    if (head === null) return null
    const flags = head[0]
    const sizeBytes = await this.read(flags & FLAG_LONG ? 8 : 1)
    if (sizeBytes === null) return null
    const size = flags & FLAG_LONG
      ? Number(new DataView(sizeBytes.buffer).getBigUint64(0))
      : sizeBytes[0]
    const body = await this.read(size)
    return body === null ? null : { flags, body }
  }

  async writeFrame(flags: number, body: Uint8Array): Promise<void> {
    const long = body.length > 255
    const head = new Uint8Array(long ? 9 : 2)
    head[0] = flags | (long ? FLAG_LONG : 0)
    if (long) new DataView(head.buffer).setBigUint64(1, BigInt(body.length))
    else head[1] = body.length
    await this.write(head)
    await this.write(body)
  }

  async write(data: Uint8Array): Promise<void> {
    let written = 0
    while (written < data.length) written += await this.conn.write(data.subarray(written))
  }
}

/** Sends a step's commands; returns the step. */
async function sendStep(wire: Wire, step: HandshakeStep): Promise<HandshakeStep> {
  for (const command of step.send) await wire.writeFrame(FLAG_COMMAND, command)
  return step
}

/** Runs a handshake on `wire` to its end: the final step, or `null` when the peer closed. */
async function runHandshake(wire: Wire, mechanism: Mechanism): Promise<HandshakeStep | null> {
  let step = await sendStep(wire, mechanism.start())
  while (step.ready === undefined && step.error === undefined) {
    const frame = await wire.readFrame()
    if (frame === null) return null
    assert.equal(frame.flags & FLAG_COMMAND, FLAG_COMMAND, 'handshake frames are commands')
    step = await sendStep(wire, await mechanism.receive(frame.body))
  }
  return step
}

/** Sends one message of several frames through the mechanism. */
async function sendMessage(wire: Wire, mechanism: Mechanism, parts: Uint8Array[]) {
  for (let index = 0; index < parts.length; index++) {
    const more = index < parts.length - 1 ? FLAG_MORE : 0
    await wire.writeFrame(0, mechanism.encode!(more, parts[index]))
  }
}

/** Reads one whole message; also returns the outer flags of its frames. */
async function receiveMessage(wire: Wire, mechanism: Mechanism) {
  const parts: Uint8Array[] = []
  const outerFlags: number[] = []
  for (;;) {
    const frame = await wire.readFrame()
    assert.ok(frame, 'the peer closed mid-message')
    outerFlags.push(frame.flags & ~FLAG_LONG)
    const { flags, payload } = mechanism.decode!(frame.body)
    parts.push(payload)
    if (!(flags & FLAG_MORE)) return { parts, outerFlags }
  }
}

function dealerMetadata(): Metadata {
  return new Map([['Socket-Type', encoder.encode('DEALER')]])
}

/** Connects our CURVE client to `port`, greeting exchanged; the mechanism not started. */
async function connectClient(port: number, serverKey: string, keys = curveKeyPair()) {
  const conn = await Deno.connect({ hostname: '127.0.0.1', port })
  const wire = new Wire(conn)
  await wire.write(greeting(false))
  const theirs = await wire.read(64)
  assert.ok(theirs, 'libzmq sent no greeting')
  assert.equal(text(theirs.subarray(12, 17)), 'CURVE')
  // libzmq 4.3 leaves as-server at 0 in its greeting even as a CURVE server.
  assert.equal(theirs[32], 0, 'libzmq greets with as-server 0')
  const mechanism = curveClientMechanism({
    asServer: false,
    metadata: dealerMetadata(),
    authenticate: () => Promise.reject(new Error('a client does not ask ZAP')),
  }, {
    serverKey: z85Decode(serverKey),
    publicKey: z85Decode(keys.publicKey),
    secretKey: z85Decode(keys.secretKey),
  })
  return { wire, mechanism, keys }
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1))
}

/**
 * A libzmq ROUTER with CURVE that echoes every message, tagged with its user id;
 * `await using` closes it.
 */
function echoRouter(zap?: (request: ZapRequest) => ZapVerdict) {
  const server = curveKeyPair()
  const received: { frames: string[]; userId: string }[] = []
  const router: RouterSocket = new RouterSocket({
    transport: 'libzmq',
    curve: { secretKey: server.secretKey },
    zapHandler: zap,
    readUserId: zap !== undefined,
    onMessage: (frames, userId) => {
      received.push({ frames: frames.slice(1).map(text), userId })
      router.send(frames)
    },
  })
  const port = portOf(router.bind('tcp://127.0.0.1:0'))
  return { server, port, received, [Symbol.asyncDispose]: () => closeAll([router]) }
}

function test(name: string, body: () => Promise<void>): void {
  Deno.test(name, () => within(15_000, name, body))
}

test('our CURVE client talks to a libzmq ROUTER: handshake, then messages both ways', async () => {
  await using echo = echoRouter()
  const { server, port, received } = echo
  const { wire, mechanism } = await connectClient(port, server.publicKey)
  using _conn = wire.conn
  const done = await runHandshake(wire, mechanism)
  assert.equal(done?.error, undefined)
  assert.equal(text(done?.ready?.get('socket-type') ?? new Uint8Array()), 'ROUTER')
  const big = 'b'.repeat(5000)
  for (const parts of [['hello'], ['first', 'second', ''], [big]]) {
    await sendMessage(wire, mechanism, parts.map(bytes))
    const echoed = await receiveMessage(wire, mechanism)
    assert.deepEqual(echoed.parts.map(text), parts)
    assert.deepEqual(echoed.outerFlags, parts.map(() => 0), 'MESSAGE frames have flags 0')
  }
  assert.deepEqual(received.map((message) => message.frames), [
    ['hello'],
    ['first', 'second', ''],
    [big],
  ])
})

test('a libzmq ZAP handler sees our client public key and names its user', async () => {
  const asked: ZapRequest[] = []
  await using echo = echoRouter((request) => {
    asked.push(request)
    return { userId: 'user-42' }
  })
  const { server, port, received } = echo
  const { wire, mechanism, keys } = await connectClient(port, server.publicKey)
  using _conn = wire.conn
  const done = await runHandshake(wire, mechanism)
  assert.ok(done?.ready, done?.error)
  await sendMessage(wire, mechanism, [bytes('who am i')])
  await receiveMessage(wire, mechanism)
  assert.equal(asked.length, 1)
  assert.equal(asked[0].mechanism, 'CURVE')
  assert.equal(asked[0].publicKey, keys.publicKey)
  assert.deepEqual(received, [{ frames: ['who am i'], userId: 'user-42' }])
})

test('a libzmq ZAP refusal reaches our client as ERROR 400', async () => {
  await using echo = echoRouter(() => false)
  const { server, port } = echo
  const { wire, mechanism } = await connectClient(port, server.publicKey)
  using _conn = wire.conn
  const done = await runHandshake(wire, mechanism)
  assert.equal(done?.ready, undefined)
  assert.equal(done?.error, 'authentication refused (ZAP status 400)')
})

test('a libzmq ROUTER drops our client when it has another server key', async () => {
  await using echo = echoRouter()
  const { port } = echo
  const { wire, mechanism } = await connectClient(port, curveKeyPair().publicKey)
  using _conn = wire.conn
  assert.equal(await runHandshake(wire, mechanism), null)
})

test('a libzmq DEALER talks to our CURVE server: handshake, ZAP, messages both ways', async () => {
  const server = curveKeyPair()
  const client = curveKeyPair()
  using listener = Deno.listen({ hostname: '127.0.0.1', port: 0 })
  const echoed = deferred<string[]>()
  const dealer = new DealerSocket({
    transport: 'libzmq',
    curve: {
      serverKey: server.publicKey,
      publicKey: client.publicKey,
      secretKey: client.secretKey,
    },
    routingId: 'dealer-1',
    onMessage: (frames) => echoed.resolve(frames.map(text)),
  })
  await using _dealer = closeAtEnd(dealer)
  const asked: (string | undefined)[] = []
  dealer.connect(`tcp://127.0.0.1:${listener.addr.port}`)
  dealer.send(['one', 'two', 'x'.repeat(3000)].map(bytes))
  const wire = new Wire(await listener.accept())
  await wire.write(greeting(true))
  const theirs = await wire.read(64)
  assert.ok(theirs)
  assert.equal(text(theirs.subarray(12, 17)), 'CURVE')
  assert.equal(theirs[32], 0)
  const mechanism = curveServerMechanism({
    asServer: true,
    metadata: new Map([['Socket-Type', bytes('ROUTER')]]),
    authenticate: (name, publicKey) => {
      asked.push(`${name} ${publicKey}`)
      return Promise.resolve({ userId: 'dealer' })
    },
  }, { secretKey: z85Decode(server.secretKey), publicKey: z85Decode(server.publicKey) })
  const done = await runHandshake(wire, mechanism)
  assert.ok(done?.ready, done?.error)
  assert.equal(done.userId, 'dealer')
  assert.equal(text(done.ready.get('socket-type')!), 'DEALER')
  assert.equal(text(done.ready.get('identity')!), 'dealer-1')
  assert.deepEqual(asked, [`CURVE ${client.publicKey}`])
  const message = await receiveMessage(wire, mechanism)
  assert.deepEqual(message.parts.map(text), ['one', 'two', 'x'.repeat(3000)])
  assert.deepEqual(message.outerFlags, [0, 0, 0], 'libzmq sends MESSAGE frames with flags 0')
  await sendMessage(wire, mechanism, message.parts)
  assert.deepEqual(await within(5000, 'echo at the dealer', () => echoed.promise), [
    'one',
    'two',
    'x'.repeat(3000),
  ])
  wire.conn.close()
})

test('a libzmq DEALER refused by our server ZAP gets ERROR and sends nothing', async () => {
  const server = curveKeyPair()
  using listener = Deno.listen({ hostname: '127.0.0.1', port: 0 })
  const dealer = new DealerSocket({ transport: 'libzmq', curve: { serverKey: server.publicKey } })
  await using _dealer = closeAtEnd(dealer)
  dealer.connect(`tcp://127.0.0.1:${listener.addr.port}`)
  dealer.send([bytes('must not arrive')])
  const wire = new Wire(await listener.accept())
  await wire.write(greeting(true))
  assert.ok(await wire.read(64))
  const mechanism = curveServerMechanism({
    asServer: true,
    metadata: new Map([['Socket-Type', bytes('ROUTER')]]),
    authenticate: () => Promise.resolve(null),
  }, { secretKey: z85Decode(server.secretKey), publicKey: z85Decode(server.publicKey) })
  const done = await runHandshake(wire, mechanism)
  assert.match(done?.error ?? '', /ZAP refused/)
  // libzmq answers an ERROR by closing; it must not send the message in clear.
  const after = await wire.readFrame()
  assert.equal(after, null)
  wire.conn.close()
})
