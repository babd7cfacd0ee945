// BackRPCServer and BackRPCClient of @huly/network/compat: huly.net's handler
// interfaces over this library's rpc layer.
import assert from 'node:assert/strict'
import {
  BackRPCClient,
  BackRPCServer,
  type BackRPCServerHandler,
  type ClientId,
  TickManagerImpl,
} from '@huly/network/compat'
import { ClosedError, NotConnectedError } from '@huly/network/core'

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
