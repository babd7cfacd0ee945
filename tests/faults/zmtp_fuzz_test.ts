// Fuzzing the native transport from an unauthenticated peer: random bytes, greetings
// that are almost right, frames of random flags and sizes (up to 2^63 declared), and
// random CURVE handshake commands, each on its own TCP connection to a zmtp ROUTER
// (plain and CURVE). The process never crashes, every fuzzing connection is closed
// again, memory stays bounded, and a well-behaved DEALER keeps getting its answers.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { curveKeyPair, DealerSocket, RouterSocket, type SocketEvent } from '../../rpc/mod.ts'

/** Connections per property run (HULY_FUZZ_RUNS scales them up for `deno task fuzz`). */
const runs = Math.min(Number(Deno.env.get('HULY_FUZZ_RUNS') ?? 300), 20_000)
const encoder = new TextEncoder()

function greeting(mechanism: string, major = 3, asServer = 0): Uint8Array {
  const bytes = new Uint8Array(64)
  bytes.set([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, major, 1])
  bytes.set(encoder.encode(mechanism).subarray(0, 20), 12)
  bytes[32] = asServer
  return bytes
}

/** A frame header with any flags and a size that may lie about the bytes that follow. */
const frame = fc.record({
  flags: fc.integer({ min: 0, max: 255 }),
  size: fc.oneof(
    fc.integer({ min: 0, max: 300 }),
    fc.constantFrom(2 ** 31, 2 ** 32 + 5, 2 ** 53, Number.MAX_SAFE_INTEGER),
  ),
  body: fc.uint8Array({ maxLength: 300 }),
}).map(({ flags, size, body }) => {
  const long = (flags & 0x02) !== 0
  const header = new Uint8Array(long ? 9 : 2)
  header[0] = flags
  if (long) {
    const view = new DataView(header.buffer)
    view.setBigUint64(1, BigInt(size))
  } else header[1] = size & 0xff
  return new Uint8Array([...header, ...body])
})

/** A command frame with a known name and random data (READY, HELLO, INITIATE, ...). */
const command = fc.record({
  name: fc.constantFrom('READY', 'HELLO', 'INITIATE', 'ERROR', 'PING', 'MESSAGE', 'WELCOME'),
  data: fc.uint8Array({ maxLength: 250 }),
}).map(({ name, data }) => {
  const body = new Uint8Array([name.length, ...encoder.encode(name), ...data])
  return new Uint8Array([0x04, body.length, ...body])
})

/** What a hostile peer sends on one connection. */
const input = (mechanism: string) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 2000 }),
    fc.tuple(
      fc.constantFrom(
        greeting(mechanism),
        greeting(mechanism, 2),
        greeting(mechanism === 'NULL' ? 'CURVE' : 'NULL'),
        greeting(mechanism, 3, 1),
        greeting('PLAIN'),
      ),
      fc.array(fc.oneof(frame, command), { maxLength: 8 }),
    ).map(([hello, frames]) => {
      const parts = [hello, ...frames]
      const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
      let at = 0
      for (const part of parts) {
        out.set(part, at)
        at += part.length
      }
      return out
    }),
  )

/** Sends `bytes` on a new connection, maybe half of it, then hangs up or waits a little. */
async function hostile(port: number, bytes: Uint8Array, cut: number): Promise<void> {
  using conn = await Deno.connect({ hostname: '127.0.0.1', port })
  const part = cut === 0 ? bytes : bytes.subarray(0, Math.ceil(bytes.length / (cut + 1)))
  await conn.write(part).catch(() => 0)
  // Read what the server answers (its greeting, an ERROR), briefly.
  const sink = new Uint8Array(1024)
  await Promise.race([
    conn.read(sink).catch(() => null),
    new Promise((resolve) => setTimeout(resolve, 2)),
  ])
}

for (const curve of [false, true]) {
  const mechanism = curve ? 'CURVE' : 'NULL'
  Deno.test(`random input to a zmtp ROUTER (${mechanism}) never crashes it, leaks connections, or stalls a good peer`, async () => {
    const keys = curveKeyPair()
    const events: SocketEvent[] = []
    await using router: RouterSocket = new RouterSocket({
      transport: 'zmtp',
      handshakeInterval: 2000,
      maxMessageSize: 1024 * 1024,
      ...(curve && { curve: { secretKey: keys.secretKey } }),
      onEvent: (event) => events.push(event),
      onMessage: ([peer, ...body]) => router.send([peer, ...body]),
    })
    const endpoint = router.bind('tcp://127.0.0.1:0')
    const port = Number(endpoint.split(':').pop())
    let answered = 0
    await using good: DealerSocket = new DealerSocket({
      transport: 'zmtp',
      ...(curve && { curve: { serverKey: keys.publicKey } }),
      onMessage: () => {
        answered++
        good.send([encoder.encode('ping')])
      },
    })
    good.connect(endpoint)
    good.send([encoder.encode('ping')])
    while (answered === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const rssBefore = Deno.memoryUsage().rss
    let previous = answered
    await fc.assert(
      fc.asyncProperty(input(mechanism), fc.integer({ min: 0, max: 3 }), async (bytes, cut) => {
        await hostile(port, bytes, cut)
      }),
      { numRuns: runs },
    )
    // The good peer kept going during the attack, and still does.
    assert.ok(answered > previous, 'the good DEALER got answers during the fuzzing')
    previous = answered
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.ok(answered > previous, 'the good DEALER still gets answers')
    // Every fuzzing connection ends: accepted = 1 (the good peer) + closed ones.
    const accepted = () => events.filter((event) => event.type === 'accepted').length
    const ended = () =>
      events.filter((event) => event.type === 'disconnected' || event.type === 'handshake-failed')
        .length
    const deadline = performance.now() + 5000
    while (ended() < accepted() - 1 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal(ended(), accepted() - 1, 'every hostile connection was closed')
    const grownMiB = (Deno.memoryUsage().rss - rssBefore) / 1024 / 1024
    assert.ok(grownMiB < 100, `RSS grew ${grownMiB.toFixed(1)} MiB`)
  })
}
