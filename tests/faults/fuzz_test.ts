import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  AgentImpl,
  type AgentUuid,
  type ClientUuid,
  type ContainerKind,
  ManualTickManager,
  NetworkError,
  NetworkImpl,
} from '../../core/mod.ts'
import { frames, type Header, Kind, parseMessage } from '../../rpc/_frames.ts'
import { encode } from '../../rpc/codec.ts'

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
  const clock = new ManualTickManager()
  const network = new NetworkImpl(clock)
  const agent = new AgentImpl('a1' as AgentUuid, {
    echo: (options) =>
      Promise.resolve({
        uuid: options.uuid,
        container: {
          request: (_op, data) => Promise.resolve(data),
          connect: () => {},
          disconnect: () => {},
          terminate: () => Promise.resolve(),
          ping: () => {},
        },
      }),
  })
  await network.register(agent.registration(), agent)
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
  await network.close()
  await agent.close()
})
