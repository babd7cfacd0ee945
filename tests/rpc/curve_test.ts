import assert from 'node:assert/strict'
import {
  curveKeyPair,
  curvePublicKey,
  DealerSocket,
  RouterSocket,
  type SocketEvent,
  type ZapRequest,
} from '../../rpc/mod.ts'
import { bytes, closeAll, closeAtEnd, deferred, text, waitFor, within } from './_helpers.ts'
import { TappingRelay } from './_tapping_relay.ts'

const MARKER = 'PLAINTEXT-MARKER-7f3a9c'

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1))
}

/** Sends the marker through the relay and waits for the echo. */
async function exchangeThroughRelay(secure: boolean): Promise<TappingRelay> {
  const server = curveKeyPair()
  const router: RouterSocket = new RouterSocket({
    curve: secure ? { secretKey: server.secretKey } : undefined,
    onMessage: ([peer, body]) => router.send([peer, body]),
  })
  const echoed = deferred<string>()
  const dealer = new DealerSocket({
    curve: secure ? { serverKey: server.publicKey } : undefined,
    onMessage: ([body]) => echoed.resolve(text(body)),
  })
  let relay: TappingRelay | undefined
  try {
    relay = new TappingRelay(portOf(router.bind('tcp://127.0.0.1:0')))
    dealer.connect(`tcp://127.0.0.1:${relay.port}`)
    dealer.send([bytes(`${MARKER} secret payload`)])
    assert.equal(await within(5000, 'echo', () => echoed.promise), `${MARKER} secret payload`)
    return relay
  } finally {
    await closeAll([dealer, router])
    await relay?.close()
  }
}

Deno.test('without CURVE the marker is visible on the wire (the tap works)', async () => {
  const relay = await exchangeThroughRelay(false)
  assert.ok(relay.bytes > 0)
  assert.equal(relay.saw(MARKER), true)
})

Deno.test('with CURVE the marker is not visible on the wire', async () => {
  const relay = await exchangeThroughRelay(true)
  assert.ok(relay.bytes > 0)
  assert.equal(relay.saw(MARKER), false)
})

Deno.test('curve keys are Z85 and the public key derives from the secret key', () => {
  const pair = curveKeyPair()
  assert.equal(pair.publicKey.length, 40)
  assert.equal(pair.secretKey.length, 40)
  assert.equal(curvePublicKey(pair.secretKey), pair.publicKey)
  assert.notEqual(curveKeyPair().publicKey, pair.publicKey)
})

/** A CURVE server that records its events and the messages it gets. */
function curveServer(options: { zap?: (request: ZapRequest) => boolean | Promise<boolean> } = {}) {
  const keys = curveKeyPair()
  const events: SocketEvent[] = []
  const received: string[] = []
  const router: RouterSocket = new RouterSocket({
    curve: { secretKey: keys.secretKey },
    zapHandler: options.zap,
    onEvent: (event) => events.push(event),
    onMessage: ([peer, body]) => {
      received.push(text(body))
      router.send([peer, body])
    },
  })
  const endpoint = router.bind('tcp://127.0.0.1:0')
  return { keys, events, received, router, endpoint }
}

function failures(events: SocketEvent[]): SocketEvent[] {
  return events.filter((event) => event.type === 'handshake-failed')
}

/** Has `dealer` knock on `server`; resolves with why the server failed the handshake. */
async function knock(
  server: ReturnType<typeof curveServer>,
  dealer: DealerSocket,
): Promise<string> {
  dealer.connect(server.endpoint)
  dealer.send([bytes('let me in')])
  await waitFor(() => failures(server.events).length > 0, 5000, 'server handshake failure')
  return failures(server.events)[0].reason ?? ''
}

Deno.test('a client with the wrong server key is refused with a handshake-failed event', async () => {
  const server = curveServer()
  const clientEvents: SocketEvent[] = []
  const dealer = new DealerSocket({
    curve: { serverKey: curveKeyPair().publicKey },
    onEvent: (event) => clientEvents.push(event),
  })
  await using _sockets = closeAtEnd(dealer, server.router)
  assert.match(await knock(server, dealer), /cryptographic|key/)
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.deepEqual(server.received, [])
})

Deno.test('a plain client is refused by a CURVE server with a handshake-failed event', async () => {
  const server = curveServer()
  const clientEvents: SocketEvent[] = []
  const dealer = new DealerSocket({ onEvent: (event) => clientEvents.push(event) })
  await using _sockets = closeAtEnd(dealer, server.router)
  assert.match(await knock(server, dealer), /mechanism mismatch/)
  await waitFor(() => failures(clientEvents).length > 0, 5000, 'client handshake failure')
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.deepEqual(server.received, [])
})

Deno.test('the ZAP handler gets the client public key and can refuse it', async () => {
  const allowed = curveKeyPair()
  const refused = curveKeyPair()
  const asked: ZapRequest[] = []
  const server = curveServer({
    zap: (request) => {
      asked.push(request)
      return request.publicKey === allowed.publicKey
    },
  })
  const good = deferred<string>()
  const goodClient = new DealerSocket({
    curve: { serverKey: server.keys.publicKey, ...allowed },
    onMessage: ([body]) => good.resolve(text(body)),
  })
  const badEvents: SocketEvent[] = []
  const badClient = new DealerSocket({
    curve: { serverKey: server.keys.publicKey, ...refused },
    onEvent: (event) => badEvents.push(event),
  })
  await using _sockets = closeAtEnd(goodClient, badClient, server.router)
  goodClient.connect(server.endpoint)
  goodClient.send([bytes('hello')])
  assert.equal(await within(5000, 'allowed client', () => good.promise), 'hello')
  badClient.connect(server.endpoint)
  badClient.send([bytes('intruder')])
  await waitFor(() => failures(badEvents).length > 0, 5000, 'refused client event')
  assert.match(failures(badEvents)[0].reason ?? '', /ZAP status 400/)
  await waitFor(() => failures(server.events).length > 0, 5000, 'server event')
  assert.deepEqual(server.received, ['hello'])
  const keys = asked.map((request) => request.publicKey)
  assert.ok(keys.includes(allowed.publicKey))
  assert.ok(keys.includes(refused.publicKey))
  assert.equal(asked[0].mechanism, 'CURVE')
  assert.equal(asked[0].address, '127.0.0.1')
})

Deno.test('an async ZAP handler is awaited', async () => {
  const client = curveKeyPair()
  const server = curveServer({
    zap: async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      return request.publicKey === client.publicKey
    },
  })
  const reply = deferred<string>()
  const dealer = new DealerSocket({
    curve: { serverKey: server.keys.publicKey, ...client },
    onMessage: ([body]) => reply.resolve(text(body)),
  })
  await using _sockets = closeAtEnd(dealer, server.router)
  dealer.connect(server.endpoint)
  dealer.send([bytes('async ok')])
  assert.equal(await within(5000, 'reply', () => reply.promise), 'async ok')
})
