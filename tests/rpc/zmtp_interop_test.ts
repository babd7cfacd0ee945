// The native transport (zmtp) against libzmq, the reference: each side of a
// ROUTER/DEALER pair on either transport, plain and with CURVE, multipart messages
// from 0 B to 16 MiB frames, reconnects after the other side restarts, heartbeats
// and ZAP in both directions.
import assert from 'node:assert/strict'
import {
  curveKeyPair,
  DealerSocket,
  RouterSocket,
  type SocketEvent,
  type Transport,
  type ZapRequest,
} from '../../rpc/mod.ts'
import { bytes, closeAll, closeAtEnd, deferred, text, waitFor, within } from './_helpers.ts'

const PAIRS: [router: Transport, dealer: Transport][] = [
  ['zmtp', 'libzmq'],
  ['libzmq', 'zmtp'],
  ['zmtp', 'zmtp'],
]

/** Frame sizes across the short/long frame boundary up to 16 MiB. */
const SIZES = [0, 1, 255, 256, 65_536, 1024 * 1024, 16 * 1024 * 1024]

function filled(size: number, seed: number): Uint8Array {
  const frame = new Uint8Array(size)
  for (let i = 0; i < size; i += 4096) frame[i] = (i / 4096 + seed) & 0xff
  if (size > 0) frame[size - 1] = seed & 0xff
  return frame
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i += 4096) if (a[i] !== b[i]) return false
  return a.length === 0 || a[a.length - 1] === b[b.length - 1]
}

function echoRouter(
  transport: Transport,
  options: ConstructorParameters<typeof RouterSocket>[0] = {},
) {
  const router: RouterSocket = new RouterSocket({
    transport,
    ...options,
    onMessage: ([peer, ...body]) => router.send([peer, ...body]),
  })
  return router
}

/** A DEALER whose replies can be awaited one by one. */
function replyingDealer(
  transport: Transport,
  options: ConstructorParameters<typeof DealerSocket>[0] = {},
) {
  const replies: Uint8Array[][] = []
  let wake = () => {}
  const dealer = new DealerSocket({
    transport,
    ...options,
    onMessage: (frames) => {
      replies.push(frames)
      wake()
    },
  })
  const next = (ms = 10_000): Promise<Uint8Array[]> =>
    within(ms, 'a reply', async () => {
      while (replies.length === 0) await new Promise<void>((resolve) => (wake = resolve))
      return replies.shift()!
    })
  return { dealer, next, replies }
}

for (const [routerTransport, dealerTransport] of PAIRS) {
  const name = `${routerTransport} ROUTER, ${dealerTransport} DEALER`

  for (const curve of [false, true]) {
    const mode = curve ? 'CURVE' : 'plain'
    Deno.test(`${name}, ${mode}: multipart messages of 0 B to 16 MiB frames arrive whole and in order`, async () => {
      const server = curveKeyPair()
      const router = echoRouter(routerTransport, {
        maxMessageSize: 64 * 1024 * 1024,
        ...(curve && { curve: { secretKey: server.secretKey } }),
      })
      const { dealer, next } = replyingDealer(dealerTransport, {
        ...(curve && { curve: { serverKey: server.publicKey } }),
      })
      await using _sockets = closeAtEnd(dealer, router)
      dealer.connect(router.bind('tcp://127.0.0.1:0'))
      const sent = SIZES.map((size, i) => [bytes(`m${i}`), filled(size, i), bytes('end')])
      for (const message of sent) dealer.send(message)
      for (const message of sent) {
        const reply = await next(20_000)
        assert.equal(reply.length, 3)
        assert.equal(text(reply[0]), text(message[0]))
        assert.ok(sameBytes(reply[1], message[1]), `frame of ${message[1].length} bytes`)
        assert.equal(text(reply[2]), 'end')
      }
      // Many small messages keep their order too.
      for (let i = 0; i < 5000; i++) dealer.send([bytes(String(i))])
      for (let i = 0; i < 5000; i++) assert.equal(text((await next())[0]), String(i))
    })
  }

  Deno.test(`${name}: the DEALER reconnects after the ROUTER restarts on its port`, async () => {
    let router = echoRouter(routerTransport)
    const endpoint = router.bind('tcp://127.0.0.1:0')
    const { dealer, next, replies } = replyingDealer(dealerTransport)
    await using _sockets = closeAtEnd(dealer, router)
    dealer.connect(endpoint)
    dealer.send([bytes('before')])
    assert.equal(text((await next())[0]), 'before')
    await router.close()
    router = echoRouter(routerTransport)
    await within(5000, 'binding the port again', async () => {
      for (;;) {
        try {
          return router.bind(endpoint)
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
    })
    // What was written to the dead connection is lost; ask until an answer comes.
    await waitFor(
      () => {
        if (replies.length > 0) return true
        dealer.send([bytes('after')])
        return false
      },
      10_000,
      'a reply from the restarted ROUTER',
    )
    assert.equal(text(replies[0][0]), 'after')
  })

  Deno.test(`${name}: heartbeats keep an idle connection and ZAP sees the CURVE client`, async () => {
    const server = curveKeyPair()
    const allowed = curveKeyPair()
    const refused = curveKeyPair()
    const asked: ZapRequest[] = []
    const router = echoRouter(routerTransport, {
      curve: { secretKey: server.secretKey },
      heartbeat: { interval: 100, timeout: 300, ttl: 1000 },
      zapHandler: (request) => {
        asked.push(request)
        return request.publicKey === allowed.publicKey && { userId: 'allowed-user' }
      },
    })
    const events: SocketEvent[] = []
    const good = replyingDealer(dealerTransport, {
      curve: { serverKey: server.publicKey, ...allowed },
      heartbeat: { interval: 100, timeout: 300 },
      onEvent: (event) => events.push(event),
    })
    const badEvents: SocketEvent[] = []
    const bad = replyingDealer(dealerTransport, {
      curve: { serverKey: server.publicKey, ...refused },
      onEvent: (event) => badEvents.push(event),
    })
    await using _sockets = closeAtEnd(good.dealer, bad.dealer, router)
    const endpoint = router.bind('tcp://127.0.0.1:0')
    good.dealer.connect(endpoint)
    good.dealer.send([bytes('one')])
    assert.equal(text((await good.next())[0]), 'one')
    // Ten heartbeat timeouts of silence: the connection must still be there.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    good.dealer.send([bytes('two')])
    assert.equal(text((await good.next())[0]), 'two')
    assert.ok(!events.some((event) => event.type === 'disconnected'), JSON.stringify(events))
    bad.dealer.connect(endpoint)
    bad.dealer.send([bytes('intruder')])
    await waitFor(
      () => badEvents.some((event) => event.type === 'handshake-failed'),
      5000,
      'the refused client hears of it',
    )
    assert.equal(bad.replies.length, 0)
    assert.ok(asked.some((request) => request.publicKey === allowed.publicKey))
    assert.ok(asked.some((request) => request.publicKey === refused.publicKey))
    assert.ok(asked.every((request) => request.mechanism === 'CURVE'))
  })
}

Deno.test('a zmtp ROUTER gives each message the User-Id ZAP named, for libzmq and zmtp clients alike', async () => {
  const server = curveKeyPair()
  const users = new Map([[curveKeyPair(), 'ann'], [curveKeyPair(), 'bob']])
  const names = new Map([...users].map(([keys, name]) => [keys.publicKey, name]))
  const seen: string[] = []
  const router: RouterSocket = new RouterSocket({
    transport: 'zmtp',
    curve: { secretKey: server.secretKey },
    zapHandler: (request) => ({ userId: names.get(request.publicKey!) ?? 'nobody' }),
    readUserId: true,
    onMessage: ([peer, body], userId) => {
      seen.push(`${text(body)}:${userId}`)
      router.send([peer, body])
    },
  })
  const dealers = [...users.keys()].map((keys, i) =>
    replyingDealer(i === 0 ? 'libzmq' : 'zmtp', {
      curve: { serverKey: server.publicKey, ...keys },
    })
  )
  try {
    const endpoint = router.bind('tcp://127.0.0.1:0')
    for (const [i, { dealer, next }] of dealers.entries()) {
      dealer.connect(endpoint)
      dealer.send([bytes(`m${i}`)])
      await next()
    }
    assert.deepEqual(seen.sort(), ['m0:ann', 'm1:bob'])
  } finally {
    await closeAll([...dealers.map((d) => d.dealer), router])
  }
})

/** The greeting and READY of a NULL peer of `socketType`, as raw ZMTP bytes. */
function nullHandshake(socketType: string): Uint8Array {
  const greeting = new Uint8Array(64)
  greeting.set([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1])
  greeting.set(bytes('NULL'), 12)
  const type = bytes(socketType)
  const body = [5, ...bytes('READY'), 11, ...bytes('Socket-Type'), 0, 0, 0, type.length, ...type]
  return new Uint8Array([...greeting, 0x04, body.length, ...body])
}

/** A TCP peer that sends `handshake` on its first connection, then reads and ignores all. */
function rawPeer(handshake: Uint8Array, connect?: string) {
  const listener = connect === undefined ? Deno.listen({ hostname: '127.0.0.1', port: 0 }) : null
  const conn = listener === null
    ? Deno.connect({ hostname: '127.0.0.1', port: Number(connect!.split(':').pop()) })
    : listener.accept()
  const done = (async () => {
    const stream = await conn
    await stream.write(handshake)
    const sink = new Uint8Array(4096)
    while ((await stream.read(sink).catch(() => null)) !== null) {
      // PINGs included: this peer never answers.
    }
    stream.close()
  })()
  return {
    endpoint: listener && `tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    stop: async () => {
      listener?.close()
      await done.catch(() => {})
    },
  }
}

Deno.test('a zmtp DEALER drops a peer that goes silent past the heartbeat timeout', async () => {
  const peer = rawPeer(nullHandshake('ROUTER'))
  const events: SocketEvent[] = []
  const dealer = new DealerSocket({
    transport: 'zmtp',
    heartbeat: { interval: 100, timeout: 200 },
    onEvent: (event) => events.push(event),
  })
  try {
    dealer.connect(peer.endpoint!)
    await waitFor(
      () => events.some((event) => event.type === 'handshake-succeeded'),
      5000,
      'handshake',
    )
    const started = performance.now()
    await waitFor(
      () => events.some((event) => event.type === 'disconnected'),
      5000,
      'the silent peer is dropped',
    )
    const after = performance.now() - started
    assert.ok(after < 2000, `dropped after ${after.toFixed(0)} ms`)
    assert.match(events.find((event) => event.type === 'disconnected')!.reason ?? '', /heartbeat/)
  } finally {
    await closeAll([dealer])
    await peer.stop()
  }
})

Deno.test('a zmtp ROUTER refuses a peer of an incompatible socket type, and one with another mechanism', async () => {
  const server = curveKeyPair()
  const events: SocketEvent[] = []
  const router = new RouterSocket({ transport: 'zmtp', onEvent: (event) => events.push(event) })
  const curveRouter = new RouterSocket({
    transport: 'zmtp',
    curve: { secretKey: server.secretKey },
    onEvent: (event) => events.push(event),
  })
  // A zmtp DEALER sends its whole greeting (libzmq may hang up before it has read ours).
  const plainDealer = new DealerSocket({ transport: 'zmtp' })
  const publisher = rawPeer(nullHandshake('PUB'), router.bind('tcp://127.0.0.1:0'))
  try {
    plainDealer.connect(curveRouter.bind('tcp://127.0.0.1:0'))
    await waitFor(
      () => events.filter((event) => event.type === 'handshake-failed').length >= 2,
      5000,
      'two refused handshakes',
    )
    const reasons = events.filter((event) => event.type === 'handshake-failed')
      .map((event) => event.reason ?? '').join('\n')
    assert.match(reasons, /mechanism mismatch/)
    assert.match(reasons, /a PUB peer cannot talk to a ROUTER/)
    // A refused connection ends with one event, never handshake-failed and disconnected.
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(events.filter((event) => event.type === 'disconnected').length, 0)
  } finally {
    await closeAll([router, curveRouter, plainDealer])
    await publisher.stop()
  }
})

Deno.test('a zmtp ROUTER answers many libzmq and zmtp DEALERs at once', async () => {
  const router = echoRouter('zmtp')
  const clients = Array.from({ length: 40 }, (_, i) => replyingDealer(i % 2 ? 'libzmq' : 'zmtp'))
  try {
    const endpoint = router.bind('tcp://127.0.0.1:0')
    for (const { dealer } of clients) dealer.connect(endpoint)
    const done = deferred()
    let pending = clients.length * 100
    for (const [i, client] of clients.entries()) {
      for (let n = 0; n < 100; n++) client.dealer.send([bytes(`${i}:${n}`)])
      ;(async () => {
        for (let n = 0; n < 100; n++) {
          assert.equal(text((await client.next())[0]), `${i}:${n}`)
          if (--pending === 0) done.resolve()
        }
      })()
    }
    await within(20_000, 'every reply', () => done.promise)
  } finally {
    await closeAll([...clients.map((client) => client.dealer), router])
  }
})
