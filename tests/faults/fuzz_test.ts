import assert from 'node:assert/strict'
import fc from 'fast-check'
import { type ClientUuid, type ContainerKind, NetworkError } from '../../core/mod.ts'
import { splitBatch } from '../../rpc/_batch.ts'
import { DealerSocket } from '../../rpc/mod.ts'
import { frames, type Header, Kind, parseMessage } from '../../rpc/_frames.ts'
import { decode, encode } from '../../rpc/codec.ts'
import { Fixture } from '../core/_fixture.ts'
import { rpcPair } from '../rpc/_helpers.ts'

const runs = Number(Deno.env.get('HULY_FUZZ_RUNS') ?? 100_000)

/** Any MessagePack-encodable value, nested a little. */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.bigInt(),
    fc.string(),
    fc.uint8Array({ maxLength: 16 }),
    fc.date({ noInvalidDate: true }),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 4 }),
  ),
})).node

/** Valid messages of every kind, to mutate. */
const validMessage = fc.oneof(
  fc.record({ id: fc.nat(), operation: fc.string(), meta: value, body: value }).map((
    r,
  ) =>
    frames(
      { kind: Kind.request, id: r.id, operation: r.operation, timeoutMs: 1000, meta: r.meta },
      encode(r.body),
    )
  ),
  fc.nat().map((id) => frames({ kind: Kind.reply, id }, encode(id))),
  fc.nat().map((id) => frames({ kind: Kind.cancel, id })),
  fc.string().map((reason) => frames({ kind: Kind.bye, reason })),
  fc.constant(frames({ kind: Kind.ping })),
)

/** A valid message with bytes flipped, cut or appended, or frames added and removed. */
const mutatedMessage = fc.tuple(
  validMessage,
  fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
  fc.nat(3),
)
  .map(([message, flips, shape]) => {
    const copy = message.map((frame) => frame.slice())
    for (const [at, byte] of flips) {
      const frame = copy[at % copy.length]
      if (frame.length > 0) frame[at % frame.length] = byte
    }
    if (shape === 1) copy.push(new Uint8Array([0xc1]))
    if (shape === 2) copy[0] = copy[0].subarray(0, Math.floor(copy[0].length / 2))
    if (shape === 3) copy.length = 0
    return copy
  })

const anyMessage = fc.oneof(
  mutatedMessage,
  fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 4 }),
  fc.array(value, { minLength: 1, maxLength: 6 }).map((fields) => [encode(fields)]),
)

Deno.test(`the frame decoder, fed ${runs} random and mutated messages, answers each with a header or a ProtocolError, never anything else`, () => {
  fc.assert(
    fc.property(anyMessage, (message) => {
      let header: Header
      try {
        header = parseMessage(message).header
      } catch (error) {
        assert.ok(error instanceof NetworkError && error.name.startsWith('Protocol'), String(error))
        return
      }
      assert.equal(typeof header.kind, 'number')
    }),
    { numRuns: runs },
  )
})

Deno.test('the network, fed random calls with random arguments, rejects bad ones with named errors and keeps its registry consistent', async () => {
  await using f = new Fixture()
  await f.agent('a1', ['echo'])
  const network = f.network
  const call = fc.oneof(
    fc.tuple(fc.constant('get'), value, value, value),
    fc.tuple(fc.constant('release'), value, value, value),
    fc.tuple(fc.constant('request'), value, value, value),
    fc.tuple(fc.constant('list'), value, value, value),
    fc.tuple(fc.constant('ping'), value, value, value),
    fc.tuple(fc.constant('register'), value, value, value),
    fc.tuple(fc.constant('goodGet'), fc.constantFrom('x', 'y', 'z'), value, value),
  )
  await fc.assert(
    fc.asyncProperty(call, async ([method, a, b, c]) => {
      try {
        // deno-lint-ignore no-explicit-any -- random arguments on purpose
        const n = network as any
        if (method === 'goodGet') {
          await network.get('fuzz' as ClientUuid, 'echo' as ContainerKind, { uuid: a as never })
        } else if (method === 'register') await n.register(a, b)
        else await n[method](a, b, c)
      } catch (error) {
        assert.ok(error instanceof NetworkError, `${method} threw ${String(error)}`)
      }
      // The registry stays consistent: every listed container is on a registered agent.
      const agents = new Set(network.agents().map((r) => r.agentId))
      for (const record of network.list()) assert.ok(agents.has(record.agentId))
    }),
    { numRuns: Math.min(runs, 20_000) },
  )
  assert.deepEqual(network.agents().map((r) => r.agentId), ['a1'])
})

/** A batch blob of random messages of random shape, then randomly mutated. */
const randomBatch = fc.tuple(
  fc.array(fc.array(fc.uint8Array({ maxLength: 32 }), { minLength: 0, maxLength: 4 }), {
    maxLength: 300,
  }),
  fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }),
).map(([messages, flips]) => {
  const parts: number[] = [0xc1]
  for (const message of messages) {
    parts.push(message.length)
    for (const frame of message) {
      parts.push(frame.length & 0xff, frame.length >> 8, 0, 0, ...frame)
    }
  }
  const blob = new Uint8Array(parts)
  for (const [at, byte] of flips) if (blob.length > 1) blob[1 + at % (blob.length - 1)] = byte
  return blob
})

Deno.test(`splitBatch, fed ${Math.min(runs, 5000)} random and mutated batches, refuses the bad and large ones whole and never splits past its limits`, () => {
  fc.assert(
    fc.property(randomBatch, fc.nat(1), (blob, prefix) => {
      const frames = prefix === 1 ? [new Uint8Array([1]), blob] : [blob]
      const messages = splitBatch(frames, prefix)
      if (messages === null) return
      assert.ok(messages.length >= 1 && messages.length <= 256)
      for (const message of messages) {
        assert.ok(message.length - prefix >= 1 && message.length - prefix <= 255)
        // Views into the blob: splitting copies nothing.
        for (const frame of message.slice(prefix)) assert.equal(frame.buffer, blob.buffer)
      }
      assert.ok(messages.length === 1 || blob.length <= 64 * 1024 + 1)
    }),
    { numRuns: Math.min(runs, 5000) },
  )
})

Deno.test('an rpc server fed random batches and multipart messages of random shape and size keeps serving a well-behaved client', async () => {
  await using pair = rpcPair(
    { handler: (request) => Promise.resolve(request.body) },
    { clientId: 'steady' },
    10,
  )
  const { server, endpoint, client } = pair
  await using attacker = new DealerSocket({ linger: 0 })
  attacker.connect(endpoint)
  const multipart = fc.array(fc.uint8Array({ maxLength: 4096 }), { minLength: 1, maxLength: 8 })
  const hostile = fc.oneof(randomBatch.map((blob) => [blob]), multipart, validMessage, anyMessage)
  await client.waitConnection(5000)
  const samples = fc.sample(hostile, { numRuns: Math.min(runs, 2000) })
  for (let i = 0; i < samples.length; i++) {
    if (samples[i].length > 0) attacker.send(samples[i])
    if (i % 200 === 0) assert.equal(decode(await client.request('echo', encode(i))), i)
  }
  assert.equal(decode(await client.request('echo', encode('end'))), 'end')
  assert.equal(server.session('steady') !== undefined, true)
})
