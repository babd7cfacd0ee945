// Issue 15, defect 2: a payload over the maximum message size fails at once at the
// sender, with its size and the limit; the receiver counts one it gets; no reconnects.
import assert from 'node:assert/strict'
import { AgentImpl, type AgentUuid, MessageTooLargeError } from '../../core/mod.ts'
import { decode, encode, MAX_MESSAGE_BYTES, RpcClient } from '../../rpc/mod.ts'
import { Kind } from '../../internal.ts'
import { frames } from '../../rpc/_frames.ts'
import { createNetworkClient } from '../../client/mod.ts'
import { echoFactory, TestCoordinator, within } from '../security/_fixture.ts'

const tooLarge = () => new Uint8Array(MAX_MESSAGE_BYTES + 1024)

function assertTooLarge(error: unknown): boolean {
  assert.ok(error instanceof MessageTooLargeError, String(error))
  assert.equal(error.limit, MAX_MESSAGE_BYTES)
  assert.ok(error.size > MAX_MESSAGE_BYTES)
  assert.match(error.message, /bytes, over the limit of 16777216 bytes \(16\.0 MiB\)/)
  return true
}

Deno.test('2. a payload over the maximum message size fails at once at the sender, routed and direct, with no reconnect', async () => {
  await using network = new TestCoordinator(undefined)
  const agent = await network.client()
  await agent.serveAgent('127.0.0.1:0', { direct: echoFactory })
  await agent.register(new AgentImpl('routed-agent' as AgentUuid, { routed: echoFactory }))
  let disconnects = 0
  await using client = await createNetworkClient(network.address, {
    onConnectionChange: (connected) => void (connected || disconnects++),
  })
  const direct = await client.get('direct')
  const routed = await client.get('routed')
  const connection = await direct.connect()
  await within(
    5_000,
    'refusals',
    (async () => {
      await assert.rejects(routed.request('echo', tooLarge()), assertTooLarge)
      await assert.rejects(direct.request('echo', tooLarge()), assertTooLarge)
      await assert.rejects(connection.request('echo', tooLarge()), assertTooLarge)
      await assert.rejects(client.request(routed.uuid, 'echo', tooLarge()), assertTooLarge)
    })(),
  )
  assert.equal(await routed.request('echo', 'still here'), 'still here')
  assert.equal(await connection.request('echo', 'still here'), 'still here')
  assert.equal(network.server.stats.malformed, 0)
  assert.equal(disconnects, 0)
  await connection.close()
})

Deno.test('2. an answer over the maximum message size fails the request at once with the size named', async () => {
  await using network = new TestCoordinator(undefined)
  const agent = await network.client()
  await agent.serveAgent('127.0.0.1:0', {
    big: (options) =>
      Promise.resolve({
        uuid: options.uuid,
        container: { request: () => Promise.resolve(tooLarge()) },
      }),
  })
  const client = await network.client()
  const ref = await client.get('big')
  const error = await within(5_000, 'answer', ref.request('give').catch((error) => error))
  assert.ok(error instanceof MessageTooLargeError && error.remote, String(error))
  assert.ok(error.size > error.limit)
  assert.match(error.message, /the answer to "[^"]+" is \d+ bytes, over the limit/)
})

Deno.test('2. a receiver counts an oversized message once, answers it, and keeps the connection', async () => {
  await using network = new TestCoordinator(undefined)
  let disconnects = 0
  await using rpc = new RpcClient(network.server.endpoint, {
    clock: network.clock,
    clientId: 'raw',
    onDisconnect: () => disconnects++,
  })
  await rpc.waitConnection(5_000)
  const header = {
    kind: Kind.request,
    id: 1_000_000,
    operation: 'network.kinds',
    timeoutMs: 5_000,
  }
  rpc.session.sendRaw(frames({ ...header, meta: undefined }, tooLarge()))
  await within(
    5_000,
    'the count',
    (async () => {
      while ((network.server.stats.refused['message-bytes'] ?? 0) === 0) {
        await new Promise((r) => setTimeout(r, 20))
      }
    })(),
  )
  assert.equal(network.server.stats.refused['message-bytes'], 1)
  assert.ok(rpc.connected)
  assert.deepEqual(decode(await rpc.request('network.kinds', encode({}))), [])
  assert.equal(disconnects, 0)
})
