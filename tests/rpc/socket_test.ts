import assert from 'node:assert/strict'
import {
  ClosedError,
  DealerSocket,
  InvalidArgumentError,
  type NetworkError,
  PeerUnreachableError,
  RouterSocket,
} from '../../rpc/mod.ts'
import { bytes, closeAll, closeAtEnd, deferred, text, waitFor, within } from './_helpers.ts'

Deno.test('bind on port 0 reports the port that was bound', async () => {
  const router = new RouterSocket()
  await using _sockets = closeAtEnd(router)
  const endpoint = router.bind('tcp://127.0.0.1:0')
  assert.match(endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/)
  assert.notEqual(Number(endpoint.split(':')[2]), 0)
})

Deno.test('a DEALER and a ROUTER exchange multipart messages, empty frames included', async () => {
  const router = new RouterSocket({
    onMessage: ([peer, ...body]) => router.send([peer, bytes('echo'), ...body]),
  })
  const replies: Uint8Array[][] = []
  const dealer = new DealerSocket({ onMessage: (frames) => replies.push(frames) })
  await using _sockets = closeAtEnd(dealer, router)
  dealer.connect(router.bind('tcp://127.0.0.1:0'))
  dealer.send([bytes('a'), new Uint8Array(0), bytes('c')])
  await waitFor(() => replies.length === 1, 5000, 'echo')
  assert.deepEqual(replies[0].map(text), ['echo', 'a', '', 'c'])
})

Deno.test('messages can be read with for await', async () => {
  const router = new RouterSocket()
  const dealer = new DealerSocket({ routingId: 'client-1' })
  await using _sockets = closeAtEnd(dealer, router)
  dealer.connect(router.bind('tcp://127.0.0.1:0'))
  for (let i = 0; i < 3000; i++) dealer.send([bytes(String(i))])
  await within(10000, 'reading 3000 messages', async () => {
    let expected = 0
    for await (const [peer, body] of router) {
      assert.equal(text(peer), 'client-1')
      assert.equal(text(body), String(expected++))
      if (expected === 3000) break
    }
  })
})

Deno.test('the iterator of a closed socket ends', async () => {
  const router = new RouterSocket()
  router.bind('tcp://127.0.0.1:0')
  const reading = (async () => {
    let count = 0
    for await (const _ of router) count++
    return count
  })()
  await new Promise((resolve) => setTimeout(resolve, 20))
  await closeAll([router])
  assert.equal(await within(2000, 'iterator end', () => reading), 0)
})

Deno.test('a ROUTER reports a message to an unknown peer as PeerUnreachableError', async () => {
  const errors: NetworkError[] = []
  const router = new RouterSocket({ onError: (error) => errors.push(error) })
  await using _sockets = closeAtEnd(router)
  router.bind('tcp://127.0.0.1:0')
  router.send([bytes('nobody'), bytes('hello')])
  await waitFor(() => errors.length === 1, 2000, 'send error')
  assert.ok(errors[0] instanceof PeerUnreachableError)
  assert.equal(text(errors[0].routingId), 'nobody')
  assert.equal(router.pendingSends, 0)
})

Deno.test('a ROUTER without mandatory drops a message to an unknown peer silently', async () => {
  const errors: NetworkError[] = []
  const router = new RouterSocket({ mandatory: false, onError: (error) => errors.push(error) })
  await using _sockets = closeAtEnd(router)
  router.bind('tcp://127.0.0.1:0')
  router.send([bytes('nobody'), bytes('hello')])
  await waitFor(() => router.pendingSends === 0, 2000, 'queue drained')
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(errors.length, 0)
})

Deno.test('close is idempotent and send after close throws ClosedError', async () => {
  const dealer = new DealerSocket()
  const first = dealer.close()
  assert.equal(dealer.close(), first)
  await first
  assert.equal(dealer.closed, true)
  assert.throws(() => dealer.send([bytes('x')]), ClosedError)
  assert.throws(() => dealer.connect('tcp://127.0.0.1:1'), ClosedError)
})

Deno.test('invalid arguments are refused with InvalidArgumentError', async () => {
  assert.throws(() => new DealerSocket({ linger: -1 }), InvalidArgumentError)
  assert.throws(() => new DealerSocket({ routingId: new Uint8Array([0, 1]) }), InvalidArgumentError)
  assert.throws(() => new DealerSocket({ curve: { serverKey: 'short' } }), InvalidArgumentError)
  assert.throws(() => new RouterSocket({ heartbeat: { interval: 0 } }), InvalidArgumentError)
  const dealer = new DealerSocket()
  await using _sockets = closeAtEnd(dealer)
  assert.throws(() => dealer.send([]), InvalidArgumentError)
  assert.throws(() => dealer.send(['text' as unknown as Uint8Array]), InvalidArgumentError)
  assert.throws(() => dealer.bind('nonsense://x'), /cannot bind/)
})

Deno.test('options are accepted by libzmq', async () => {
  const router = new RouterSocket({
    linger: 100,
    sendHighWaterMark: 10,
    receiveHighWaterMark: 10,
    maxMessageSize: 1 << 20,
    tcpKeepalive: { idle: 30, interval: 5, count: 3 },
    heartbeat: { interval: 1000, timeout: 3000, ttl: 5000 },
    handover: true,
    routingId: 'server',
  })
  const got = deferred<string>()
  const dealer = new DealerSocket({
    tcpKeepalive: true,
    onMessage: ([body]) => got.resolve(text(body)),
  })
  await using _sockets = closeAtEnd(dealer, router)
  dealer.connect(router.bind('tcp://127.0.0.1:0'))
  dealer.send([bytes('ping')])
  const [peer] = await within(5000, 'request', async () => {
    for await (const frames of router) return frames
    throw new Error('router closed')
  })
  router.send([peer, bytes('pong')])
  assert.equal(await within(5000, 'reply', () => got.promise), 'pong')
})

Deno.test('a peer sending more than maxMessageSize is disconnected', async () => {
  const received: Uint8Array[][] = []
  const events: string[] = []
  const router = new RouterSocket({
    maxMessageSize: 1000,
    onMessage: (frames) => received.push(frames),
    onEvent: (event) => events.push(event.type),
  })
  const dealer = new DealerSocket()
  await using _sockets = closeAtEnd(dealer, router)
  dealer.connect(router.bind('tcp://127.0.0.1:0'))
  dealer.send([new Uint8Array(5000)])
  await waitFor(() => events.includes('disconnected'), 5000, 'disconnect')
  assert.equal(received.length, 0)
})
