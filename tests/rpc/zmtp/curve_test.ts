// The CURVE mechanism of the native ZMTP transport, in memory: our client and our
// server mechanisms feed each other's commands, and hostile bytes never crash them.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ProtocolError } from '../../../common/errors.ts'
import { z85Encode } from '../../../rpc/curve_keys.ts'
import { curveClientMechanism, curveServerMechanism } from '../../../rpc/zmtp/_curve.ts'
import {
  commandData,
  commandName,
  FLAG_COMMAND,
  FLAG_MORE,
  type HandshakeStep,
  type Mechanism,
  type MechanismContext,
} from '../../../rpc/zmtp/_mechanism.ts'
import nacl from 'tweetnacl'
import { boxKey, type BoxKeyPair, boxKeyPair, open, seal } from '../../../rpc/zmtp/_nacl.ts'
import type { ZapVerdict } from '../../../rpc/zmq/types.ts'
import { within } from '../_helpers.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

interface Peers {
  client: Mechanism
  server: Mechanism
  serverKeys: BoxKeyPair
  clientKeys: BoxKeyPair
  /** Every ZAP question the server asked: mechanism and Z85 public key. */
  asked: [string, string | undefined][]
}

function context(asServer: boolean, verdict: ZapVerdict | null, asked: Peers['asked']) {
  const metadata = new Map([['Socket-Type', encoder.encode(asServer ? 'ROUTER' : 'DEALER')]])
  if (!asServer) metadata.set('Identity', encoder.encode('client-7'))
  const result: MechanismContext = {
    asServer,
    metadata,
    authenticate(mechanism, publicKey) {
      asked.push([mechanism, publicKey])
      return Promise.resolve(verdict)
    },
  }
  return result
}

function peers(
  options: { verdict?: ZapVerdict | null; serverKeyOfClient?: Uint8Array } = {},
): Peers {
  const serverKeys = boxKeyPair()
  const clientKeys = boxKeyPair()
  const asked: Peers['asked'] = []
  const verdict = options.verdict === undefined ? { userId: '' } : options.verdict
  const client = curveClientMechanism(context(false, null, asked), {
    serverKey: options.serverKeyOfClient ?? serverKeys.publicKey,
    publicKey: clientKeys.publicKey,
    secretKey: clientKeys.secretKey,
  })
  const server = curveServerMechanism(context(true, verdict, asked), serverKeys)
  return { client, server, serverKeys, clientKeys, asked }
}

interface Handshake {
  hello: Uint8Array
  welcome: Uint8Array
  initiate: Uint8Array
  ready: Uint8Array
  serverDone: HandshakeStep
  clientDone: HandshakeStep
}

/** Runs the four commands of the handshake, failing on the first error. */
async function handshake({ client, server }: Peers): Promise<Handshake> {
  assert.deepEqual(server.start().send, [])
  const [hello] = one(client.start())
  const [welcome] = one(await server.receive(hello))
  const [initiate] = one(await client.receive(welcome))
  const serverDone = await server.receive(initiate)
  const [ready] = one(serverDone)
  const clientDone = await client.receive(ready)
  assert.equal(clientDone.error, undefined)
  assert.deepEqual(clientDone.send, [])
  return { hello, welcome, initiate, ready, serverDone, clientDone }
}

function one(step: HandshakeStep): Uint8Array[] {
  assert.equal(step.error, undefined)
  assert.equal(step.send.length, 1)
  return step.send
}

/** The 64-bit short nonce of a MESSAGE body, as a number. */
function messageNonce(body: Uint8Array): number {
  return Number(new DataView(body.buffer, body.byteOffset + 8, 8).getBigUint64(0))
}

function test(name: string, body: () => Promise<void>): void {
  Deno.test(name, () => within(10_000, name, body))
}

test('a CURVE client and server complete the handshake with commands of libzmq sizes', async () => {
  const pair = peers({ verdict: { userId: 'alice' } })
  const steps = await handshake(pair)
  assert.equal(pair.client.name, 'CURVE')
  assert.equal(commandName(steps.hello), 'HELLO')
  assert.equal(steps.hello.length, 200)
  assert.deepEqual([...steps.hello.subarray(6, 80)], [1, 0, ...new Array(72).fill(0)])
  assert.equal(steps.welcome.length, 168)
  assert.equal(commandName(steps.initiate), 'INITIATE')
  assert.ok(steps.initiate.length >= 257)
  assert.equal(commandName(steps.ready), 'READY')
  assert.equal(decoder.decode(steps.serverDone.ready?.get('socket-type')), 'DEALER')
  assert.equal(decoder.decode(steps.serverDone.ready?.get('identity')), 'client-7')
  assert.equal(decoder.decode(steps.clientDone.ready?.get('socket-type')), 'ROUTER')
  assert.equal(steps.serverDone.userId, 'alice')
})

test('the server asks ZAP about the client long-term public key in Z85', async () => {
  const pair = peers()
  await handshake(pair)
  assert.deepEqual(pair.asked, [['CURVE', z85Encode(pair.clientKeys.publicKey)]])
})

test('messages cross both ways with their MORE and COMMAND flags inside the box', async () => {
  const pair = peers()
  await handshake(pair)
  const cases: [number, string][] = [
    [0, ''],
    [FLAG_MORE, 'first part'],
    [FLAG_COMMAND, 'a command'],
    [FLAG_MORE | FLAG_COMMAND, 'both'],
    [0, 'x'.repeat(5000)],
  ]
  for (const [flags, text] of cases) {
    const toServer = pair.client.encode!(flags, encoder.encode(text))
    assert.equal(commandName(toServer), 'MESSAGE')
    assert.equal(toServer.length, 16 + 16 + 1 + encoder.encode(text).length)
    assert.equal(decoder.decode(toServer).includes(text) && text.length > 1, false)
    const atServer = pair.server.decode!(toServer)
    assert.deepEqual([atServer.flags, decoder.decode(atServer.payload)], [flags, text])
    const atClient = pair.client.decode!(pair.server.encode!(flags, encoder.encode(text)))
    assert.deepEqual([atClient.flags, decoder.decode(atClient.payload)], [flags, text])
  }
})

test('only the MORE and COMMAND bits travel in a message', async () => {
  const pair = peers()
  await handshake(pair)
  const { flags } = pair.server.decode!(pair.client.encode!(0xff, new Uint8Array(1)))
  assert.equal(flags, FLAG_MORE | FLAG_COMMAND)
})

test('short nonces count as libzmq counts them across handshake and messages', async () => {
  const pair = peers()
  const steps = await handshake(pair)
  const helloNonce = new DataView(steps.hello.buffer, 112, 8).getBigUint64(0)
  const initiateNonce = new DataView(steps.initiate.buffer, 105, 8).getBigUint64(0)
  const readyNonce = new DataView(steps.ready.buffer, 6, 8).getBigUint64(0)
  assert.deepEqual([helloNonce, initiateNonce, readyNonce], [1n, 2n, 1n])
  assert.equal(messageNonce(pair.client.encode!(0, new Uint8Array(0))), 3)
  assert.equal(messageNonce(pair.client.encode!(0, new Uint8Array(0))), 4)
  assert.equal(messageNonce(pair.server.encode!(0, new Uint8Array(0))), 2)
})

test('a client that has another server key is refused at HELLO', async () => {
  const pair = peers({ serverKeyOfClient: boxKeyPair().publicKey })
  const [hello] = pair.client.start().send
  const step = await pair.server.receive(hello)
  assert.deepEqual(step.send, [])
  assert.match(step.error ?? '', /HELLO does not open/)
})

test('a WELCOME from a server with another key is refused by the client', async () => {
  const pair = peers()
  pair.client.start()
  const other = peers()
  const [welcome] = (await other.server.receive(other.client.start().send[0])).send
  const step = await pair.client.receive(welcome)
  assert.deepEqual(step.send, [])
  assert.match(step.error ?? '', /WELCOME does not open/)
})

test('a replayed MESSAGE is refused and the stream goes on', async () => {
  const pair = peers()
  await handshake(pair)
  const first = pair.client.encode!(0, encoder.encode('one'))
  const second = pair.client.encode!(0, encoder.encode('two'))
  assert.equal(decoder.decode(pair.server.decode!(first).payload), 'one')
  assert.throws(() => pair.server.decode!(first), ProtocolError)
  assert.equal(decoder.decode(pair.server.decode!(second).payload), 'two')
  assert.throws(() => pair.server.decode!(first), ProtocolError)
  assert.throws(() => pair.server.decode!(second), ProtocolError)
})

test('a MESSAGE older than the last one received is refused', async () => {
  const pair = peers()
  await handshake(pair)
  const older = pair.server.encode!(0, encoder.encode('older'))
  const newer = pair.server.encode!(0, encoder.encode('newer'))
  pair.client.decode!(newer)
  assert.throws(() => pair.client.decode!(older), /not above the last one/)
})

test('a tampered MESSAGE is refused, and does not advance the nonce', async () => {
  const pair = peers()
  await handshake(pair)
  const body = pair.client.encode!(FLAG_MORE, encoder.encode('payload'))
  for (const index of [16, 20, 32, body.length - 1]) {
    const tampered = body.slice()
    tampered[index] ^= 0x01
    assert.throws(() => pair.server.decode!(tampered), /does not authenticate/)
  }
  const renumbered = body.slice()
  renumbered[15] += 1
  assert.throws(() => pair.server.decode!(renumbered), ProtocolError)
  assert.equal(decoder.decode(pair.server.decode!(body).payload), 'payload')
})

test('a MESSAGE boxed for the other direction is refused', async () => {
  const pair = peers()
  await handshake(pair)
  const fromClient = pair.client.encode!(0, encoder.encode('mine'))
  assert.throws(() => pair.client.decode!(fromClient), /does not authenticate/)
})

test('a MESSAGE of another connection is refused', async () => {
  const first = peers()
  const second = peers()
  await handshake(first)
  await handshake(second)
  assert.throws(
    () => second.server.decode!(first.client.encode!(0, new Uint8Array(4))),
    ProtocolError,
  )
})

test('ZAP refusal sends ERROR 400 as libzmq does and fails both sides', async () => {
  const pair = peers({ verdict: null })
  const [hello] = pair.client.start().send
  const [welcome] = (await pair.server.receive(hello)).send
  const [initiate] = (await pair.client.receive(welcome)).send
  const refused = await pair.server.receive(initiate)
  assert.equal(refused.ready, undefined)
  assert.match(refused.error ?? '', /ZAP refused/)
  assert.equal(refused.send.length, 1)
  assert.equal(commandName(refused.send[0]), 'ERROR')
  assert.deepEqual([...commandData(refused.send[0])], [3, ...encoder.encode('400')])
  const atClient = await pair.client.receive(refused.send[0])
  assert.equal(atClient.error, 'authentication refused (ZAP status 400)')
  assert.throws(() => pair.client.encode!(0, new Uint8Array(1)), ProtocolError)
})

test('a verdict of false refuses too, and true allows with no user id', async () => {
  const refused = peers({ verdict: false })
  await assert.rejects(handshake(refused))
  const allowed = peers({ verdict: true })
  const steps = await handshake(allowed)
  assert.equal(steps.serverDone.userId, '')
})

test('an INITIATE replayed to another connection of the same server is refused', async () => {
  const pair = peers()
  const steps = await handshake(pair)
  const again = curveServerMechanism(context(true, { userId: '' }, []), pair.serverKeys)
  const hello = curveClientMechanism(context(false, null, []), {
    serverKey: pair.serverKeys.publicKey,
    ...boxKeyPair(),
  }).start().send[0]
  one(await again.receive(hello))
  const step = await again.receive(steps.initiate)
  assert.deepEqual(step.send, [])
  assert.match(step.error ?? '', /cookie/)
})

test('commands out of order end the handshake with an error and nothing to send', async () => {
  const pair = peers()
  const steps = await handshake(pair)
  const cases: [Mechanism, Uint8Array][] = [
    [peers().server, steps.initiate],
    [peers().server, steps.ready],
    [peers().server, steps.welcome],
    [started(peers().client), steps.ready],
    [started(peers().client), steps.hello],
    [peers().client, steps.welcome],
    [pair.server, steps.hello],
    [pair.client, steps.welcome],
  ]
  for (const [mechanism, command] of cases) {
    const step = await mechanism.receive(command)
    assert.deepEqual(step.send, [])
    assert.match(step.error ?? '', /unexpected/)
  }
})

function started(mechanism: Mechanism): Mechanism {
  mechanism.start()
  return mechanism
}

test('commands one byte short or long are refused', async () => {
  const steps = await handshake(peers())
  const resize = (body: Uint8Array, delta: number) => {
    const out = new Uint8Array(body.length + delta)
    out.set(body.subarray(0, Math.min(body.length, out.length)))
    return out
  }
  for (const delta of [-1, 1]) {
    const server = peers().server
    assert.match((await server.receive(resize(steps.hello, delta))).error ?? '', /malformed/)
    const client = started(peers().client)
    assert.match((await client.receive(resize(steps.welcome, delta))).error ?? '', /malformed|open/)
  }
  const pair = peers()
  const [welcome] = (await pair.server.receive(pair.client.start().send[0])).send
  await pair.client.receive(welcome)
  const short = new Uint8Array(256)
  short.set(steps.initiate.subarray(0, 256))
  assert.match((await pair.server.receive(short)).error ?? '', /malformed/)
  const readyShort = new Uint8Array(29)
  readyShort.set(steps.ready.subarray(0, 29))
  const waiting = peers()
  const [welcomeOfWaiting] = (await waiting.server.receive(waiting.client.start().send[0])).send
  await waiting.client.receive(welcomeOfWaiting)
  assert.match((await waiting.client.receive(readyShort)).error ?? '', /malformed/)
})

test('a HELLO of another CURVE version is refused', async () => {
  const pair = peers()
  const [hello] = pair.client.start().send
  const other = hello.slice()
  other[7] = 1
  assert.match((await pair.server.receive(other)).error ?? '', /version 1\.1/)
})

test('a malformed ERROR is reported as malformed', async () => {
  const client = started(peers().client)
  const step = await client.receive(Uint8Array.of(5, ...encoder.encode('ERROR'), 9, 65))
  assert.equal(step.error, 'malformed ERROR')
})

test('random commands never throw out of receive, at any step of the handshake', async () => {
  const steps = await handshake(peers())
  const names = ['HELLO', 'WELCOME', 'INITIATE', 'READY', 'ERROR', 'MESSAGE', '']
  const arbitraryCommand = fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc.tuple(fc.constantFrom(...names), fc.uint8Array({ maxLength: 300 })).map(([name, data]) => {
      const body = new Uint8Array(1 + name.length + data.length)
      body[0] = name.length
      body.set(encoder.encode(name), 1)
      body.set(data, 1 + name.length)
      return body
    }),
    fc.tuple(
      fc.constantFrom(steps.hello, steps.welcome, steps.initiate, steps.ready),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
    ).map(([body, at, xor]) => {
      const out = body.slice()
      out[at % out.length] ^= xor
      return out
    }),
  )
  await fc.assert(
    fc.asyncProperty(fc.nat(3), fc.array(arbitraryCommand, { maxLength: 4 }), async (at, rest) => {
      const pair = peers()
      // Advance an honest handshake by `at` steps, then feed garbage to whoever is next.
      const [hello] = pair.client.start().send
      const sequence: [Mechanism, Uint8Array][] = []
      if (at === 0) sequence.push([pair.server, hello])
      else {
        const [welcome] = (await pair.server.receive(hello)).send
        if (at === 1) sequence.push([pair.client, welcome])
        else {
          const [initiate] = (await pair.client.receive(welcome)).send
          if (at === 2) sequence.push([pair.server, initiate])
          else sequence.push([pair.client, (await pair.server.receive(initiate)).send[0]])
        }
      }
      const [mechanism] = sequence[0]
      for (const body of rest) {
        const step = await mechanism.receive(body)
        assert.ok(Array.isArray(step.send))
      }
    }),
    { numRuns: 300 },
  )
})

test('random MESSAGE bodies only ever throw a ProtocolError out of decode', async () => {
  const pair = peers()
  await handshake(pair)
  const genuine = pair.client.encode!(0, encoder.encode('genuine'))
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.uint8Array({ minLength: 25, maxLength: 200 }).map((tail) => {
      const out = new Uint8Array(8 + tail.length)
      out.set(encoder.encode('\x07MESSAGE'))
      out.set(tail, 8)
      return out
    }),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
      const out = genuine.slice()
      out[at % out.length] ^= xor
      return out
    }),
  )
  fc.assert(
    fc.property(body, (bytes) => {
      try {
        pair.server.decode!(bytes)
        return false
      } catch (error) {
        return error instanceof ProtocolError
      }
    }),
    { numRuns: 2000 },
  )
  assert.equal(decoder.decode(pair.server.decode!(genuine).payload), 'genuine')
})

test('encode and decode before the handshake completes throw a ProtocolError', () => {
  const { client, server } = peers()
  assert.throws(() => client.encode!(0, new Uint8Array(1)), ProtocolError)
  assert.throws(() => server.decode!(new Uint8Array(40)), ProtocolError)
  return Promise.resolve()
})

test('our boxes are exactly NaCl crypto_box on both sides of the library switch', () => {
  const ours = boxKeyPair()
  const theirs = boxKeyPair()
  const key = boxKey(theirs.publicKey, ours.secretKey)!
  assert.deepEqual(key, nacl.box.before(theirs.publicKey, ours.secretKey))
  assert.deepEqual(boxKey(ours.publicKey, theirs.secretKey), key)
  for (const size of [0, 1, 100, 1023, 1024, 1025, 5000]) {
    const plain = crypto.getRandomValues(new Uint8Array(size))
    const nonce = crypto.getRandomValues(new Uint8Array(24))
    const box = seal(plain, nonce, key)
    assert.deepEqual(box, nacl.box(plain, nonce, theirs.publicKey, ours.secretKey))
    assert.deepEqual(open(box, nonce, key), plain)
    const tampered = box.slice()
    tampered[tampered.length - 1] ^= 1
    assert.equal(open(tampered, nonce, key), null)
  }
  return Promise.resolve()
})

test('a low-order public key gives no box key', () => {
  assert.equal(boxKey(new Uint8Array(32), boxKeyPair().secretKey), null)
  assert.throws(() =>
    curveClientMechanism(context(false, null, []), {
      serverKey: new Uint8Array(31),
      ...boxKeyPair(),
    }), /32 bytes/)
  const client = curveClientMechanism(context(false, null, []), {
    serverKey: new Uint8Array(32),
    ...boxKeyPair(),
  })
  assert.match(client.start().error ?? '', /low order/)
  return Promise.resolve()
})
