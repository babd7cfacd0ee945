// BackRPCServer and BackRPCClient of @huly/network/compat: huly.net's handler
// interfaces over this library's rpc layer.
import assert from 'node:assert/strict'
import {
  BackRPCClient,
  BackRPCServer,
  type BackRPCServerHandler,
  type ClientId,
  FakeTickManager,
  parseJSON,
  stringifyJSON,
  TickManagerImpl,
} from '@huly/network/compat'
import { ClosedError, NotConnectedError } from '@huly/network/core'
import { within } from './_containers.ts'

async function pair(
  server: BackRPCServerHandler<ClientId>,
  onEvent?: (event: unknown) => Promise<void>,
) {
  const tick = new TickManagerImpl(20)
  tick.start()
  const rpcServer = new BackRPCServer<ClientId>(server, tick, '127.0.0.1', 'random')
  const client = new BackRPCClient(
    'client-1' as ClientId,
    {
      requestHandler: (method, params, send) => send({ answeredByClient: method, params }),
      onEvent,
    },
    '127.0.0.1',
    await rpcServer.getPort(),
    tick,
  )
  await client.waitConnection()
  return {
    rpcServer,
    client,
    async [Symbol.asyncDispose]() {
      client.close()
      await rpcServer.close()
      tick.stop()
    },
  }
}

Deno.test('a client request reaches requestHandler with its client id; send answers it', async () => {
  await using net = await pair({
    requestHandler: (client, method, params, send) => send({ client, method, params }),
  })
  assert.deepEqual(await net.client.request('sum', [1, 2]), {
    client: 'client-1',
    method: 'sum',
    params: [1, 2],
  })
})

Deno.test('the server requests the client back and sends it events', async () => {
  const events: unknown[] = []
  const { promise: got, resolve } = Promise.withResolvers<void>()
  await using net = await pair({ requestHandler: (_c, _m, _p, send) => send(null) }, (event) => {
    events.push(event)
    resolve()
    return Promise.resolve()
  })
  const answer = await net.rpcServer.request('client-1' as ClientId, 'status', { deep: true })
  assert.deepEqual(answer, { answeredByClient: 'status', params: { deep: true } })
  await net.rpcServer.send('client-1' as ClientId, { note: 'hi' })
  await got
  assert.deepEqual(events, [{ note: 'hi' }])
})

Deno.test('helloHandler is told of a client; a failing handler fails the request', async () => {
  const hellos: string[] = []
  await using net = await pair({
    requestHandler: () => Promise.reject(new Error('no such method')),
    helloHandler: (client) => {
      hellos.push(client)
      return Promise.resolve()
    },
  })
  assert.deepEqual(hellos, ['client-1'])
  await assert.rejects(
    net.client.request('x', {}),
    (error) => error instanceof Error && error.message.includes('no such method'),
  )
})

Deno.test('a client closed with a request pending fails it as "Client closed"', async () => {
  const { promise: never } = Promise.withResolvers<void>()
  await using net = await pair({ requestHandler: () => never })
  const pending = net.client.request('hangs', {})
  await new Promise((resolve) => setTimeout(resolve, 50))
  net.client.close()
  await assert.rejects(
    pending,
    (error) => error instanceof ClosedError && error.message === 'Client closed',
  )
})

Deno.test('the server refuses a request to an unknown client as huly.net says it', async () => {
  await using net = await pair({ requestHandler: (_c, _m, _p, send) => send(null) })
  await assert.rejects(
    net.rpcServer.request('nobody' as ClientId, 'x', {}),
    (error) => error instanceof NotConnectedError && error.message === 'Client nobody not found',
  )
  await net.client.send({ note: 'to the server' })
})

Deno.test('stringifyJSON writes undefined as null; parseJSON gives undefined for bad text', () => {
  assert.equal(stringifyJSON({ a: undefined, b: [undefined, 1] }), '{"a":null,"b":[null,1]}')
  assert.deepEqual(parseJSON('{"a":null,"b":[1]}'), { a: null, b: [1] })
  assert.equal(parseJSON('{not json'), undefined)
})

Deno.test('requestsLimitPerClient bounds the requests of one client handled at once', async () => {
  let running = 0
  let most = 0
  await using net = await pair({
    requestHandler: async (_client, _method, params, send) => {
      most = Math.max(most, ++running)
      await new Promise((resolve) => setTimeout(resolve, 20))
      running--
      await send(params)
    },
  })
  assert.equal(net.rpcServer.requestsLimitPerClient, 25)
  net.rpcServer.requestsLimitPerClient = 2
  const answers = await within(
    10_000,
    Promise.all([1, 2, 3, 4, 5].map((n) => net.client.request('slow', n))),
  )
  assert.deepEqual(answers, [1, 2, 3, 4, 5])
  assert.equal(most, 2)
})

Deno.test('checkAlive pings: onPing is told and stats count pings, requests and responses', async () => {
  const pinged: string[] = []
  const { promise: ping, resolve } = Promise.withResolvers<void>()
  await using net = await pair({
    requestHandler: (_c, _m, params, send) => send(params),
    onPing: (client) => {
      pinged.push(client)
      resolve()
    },
  })
  await net.client.request('x', 1)
  await net.rpcServer.request('client-1' as ClientId, 'back', null)
  await net.client.checkAlive()
  await within(5_000, ping)
  assert.equal(pinged[0], 'client-1')
  const { stats } = net.rpcServer
  assert.ok(stats.requests >= 1 && stats.responses >= 1 && stats.pings >= 1, JSON.stringify(stats))
  await net.rpcServer.checkAlive()
  assert.deepEqual(net.rpcServer.stats, { pings: 0, requests: 0, responses: 0, hellos: 0 })
})

Deno.test('server.checkAlive drops a silent client; its next ping makes it say hello again', async () => {
  const tick = new FakeTickManager()
  const hellos: string[] = []
  const closes: boolean[] = []
  const server = new BackRPCServer<ClientId>(
    {
      requestHandler: (_c, _m, params, send) => send(params),
      helloHandler: (client) => Promise.resolve(void hellos.push(client)),
      closeHandler: (_client, timeout) => Promise.resolve(void closes.push(timeout)),
    },
    tick,
    '127.0.0.1',
    'random',
  )
  let registered = 0
  const client = new BackRPCClient(
    'client-1' as ClientId,
    {
      requestHandler: (_m, _p, send) => send(null),
      onRegister: () => Promise.resolve(void registered++),
    },
    '127.0.0.1',
    await server.getPort(),
    tick,
    undefined,
    3,
  )
  try {
    await within(5_000, client.waitConnection())
    tick.setTime(tick.now() + 4_000)
    await server.checkAlive()
    assert.deepEqual(closes, [true])
    await client.checkAlive()
    for (let i = 0; i < 100 && registered < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal(registered, 2)
    assert.deepEqual(hellos, ['client-1', 'client-1'])
    assert.equal(await within(5_000, client.request('again', 7)), 7)
  } finally {
    client.close()
    await server.close()
  }
})
