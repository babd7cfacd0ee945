import assert from 'node:assert/strict'
import { frames, Kind, PROTOCOL_VERSION } from '../../rpc/_frames.ts'
import { decode, encode } from '../../rpc/codec.ts'
import { DealerSocket } from '../../rpc/mod.ts'
import { rpcPair } from './_helpers.ts'

Deno.test('a client that does not read is disconnected past the bound, while another gets every event in order', async () => {
  const count = 20_000
  const received: number[] = []
  const all = Promise.withResolvers<void>()
  await using pair = rpcPair({
    handler: (request) => Promise.resolve(request.body),
    maxQueuedPerClient: 5000,
    // Few ZeroMQ messages in libzmq's pipe (each a batch of up to 64 KiB), so that the
    // slow client's backlog builds up in the server's own queue.
    socket: { sendHighWaterMark: 5 },
  }, {
    clientId: 'good',
    onEvent: (_topic, _meta, body) => {
      received.push((decode(body) as { i: number }).i)
      if (received.length === count) all.resolve()
    },
  })
  const { server, endpoint, client: good } = pair
  // The slow client: a raw DEALER that says hello and never reads again.
  await using slow = new DealerSocket({ receiveHighWaterMark: 10, linger: 0 })
  slow.connect(endpoint)
  slow.send(frames({
    kind: Kind.hello,
    version: PROTOCOL_VERSION,
    clientId: 'slow',
    aliveMs: 60_000,
    credentials: null,
    resume: false,
    instance: 'slow-1',
  }))
  await good.waitConnection(5_000)
  while (server.session('slow') === undefined) await new Promise((r) => setTimeout(r, 10))
  // 1 KiB events, so that the slow client's kernel buffers fill up too.
  const padding = new Uint8Array(1024)
  for (let i = 0; i < count; i++) {
    server.session('slow')?.event('tick', encode({ i, padding }))
    server.session('good')?.event('tick', encode({ i, padding }))
  }
  await all.promise
  // The slow client is cut off at the next liveness check (every second).
  for (let waited = 0; server.stats.slow === 0 && waited < 5_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  assert.deepEqual(received, Array.from({ length: count }, (_, i) => i))
  assert.equal(server.stats.slow, 1)
  assert.equal(server.session('slow'), undefined)
  assert.ok(server.session('good'))
})
