// NetworkServer's huly.net handler methods (helloHandler, onPing, closeHandler,
// requestHandler with opNames) and NetworkClientImpl(host, port, tick).
import assert from 'node:assert/strict'
import {
  AgentImpl,
  type ContainerKind,
  FakeTickManager,
  NetworkClientImpl,
  NetworkImpl,
  NetworkServer,
  opNames,
  TickManagerImpl,
} from '@huly/network/compat'
import type { AgentUuid, ClientUuid, ContainerUuid } from '@huly/network/core'
import { NotConnectedError, UnknownMethodError } from '@huly/network/core'
import { echoFactory, within } from './_containers.ts'

const echo = 'echo' as ContainerKind
const client = 'client-1' as ClientUuid

async function served() {
  const tick = new FakeTickManager()
  const network = new NetworkImpl(tick)
  const server = new NetworkServer(network, tick, '127.0.0.1', 0)
  await new AgentImpl('agent-1' as AgentUuid, { echo: echoFactory() }).register(network)
  /** Calls requestHandler and returns what it sent. */
  const call = async (method: string, params: unknown) => {
    let answer: unknown
    await server.requestHandler(client, method, params, (response) => {
      answer = response
      return Promise.resolve()
    })
    return answer
  }
  return {
    network,
    server,
    call,
    async [Symbol.asyncDispose]() {
      await server.close()
      network.close()
    },
  }
}

Deno.test('helloHandler, onPing and closeHandler keep the set of clients', async () => {
  await using net = await served()
  await net.server.helloHandler(client)
  await net.server.helloHandler(client)
  assert.deepEqual([...net.server.clients], [client])
  net.server.onPing(client)
  await net.server.closeHandler(client, true)
  assert.equal(net.server.clients.size, 0)
})

Deno.test('close closes the rpc server', async () => {
  await using net = await served()
  let closed = 0
  const close = net.server.rpcServer.close
  net.server.rpcServer.close = () => close().then(() => void closed++)
  await net.server.close()
  assert.equal(closed, 1)
})

Deno.test('requestHandler answers huly.net operations from the network', async () => {
  await using net = await served()
  assert.equal((await net.call(opNames.getAgents, {}) as unknown[]).length, 1)
  assert.deepEqual(await net.call(opNames.getKinds, {}), ['echo'])
  const [uuid] = await net.call(opNames.getContainer, { kind: echo, request: {} }) as [
    ContainerUuid,
  ]
  assert.equal((await net.call(opNames.listContainers, { kind: echo }) as unknown[]).length, 1)
  assert.equal(await net.call(opNames.sendContainer, [uuid, 'echo', 'hi']), 'hi')
  assert.equal(await net.call(opNames.releaseContainer, { uuid }), 'ok')
  await assert.rejects(net.call('nope', {}), UnknownMethodError)
})

Deno.test('requestHandler registers and unregisters an agent it cannot reach', async () => {
  await using net = await served()
  const agent = 'agent-2' as AgentUuid
  const other = 'other' as ContainerKind
  await net.call(opNames.register, {
    uuid: agent,
    containers: [],
    kinds: [other],
    endpoint: 'not an endpoint reference',
  })
  assert.ok((await net.network.agents()).some((a) => a.agentId === agent))
  await assert.rejects(net.network.get(client, other, {}), NotConnectedError)
  assert.equal(await net.call(opNames.unregister, { uuid: agent }), 'ok')
  assert.ok(!(await net.network.agents()).some((a) => a.agentId === agent))
})

Deno.test('NetworkClientImpl(host, port, tick) connects like createNetworkClient', async () => {
  const tick = new TickManagerImpl(20)
  tick.start()
  const network = new NetworkImpl(tick)
  const server = new NetworkServer(network, tick, '127.0.0.1', 0)
  const networkClient = new NetworkClientImpl('127.0.0.1', await server.rpcServer.getPort(), tick)
  try {
    await within(10_000, networkClient.waitConnection())
    assert.deepEqual(await networkClient.kinds(), [])
    assert.equal(networkClient.host, '127.0.0.1')
  } finally {
    await networkClient.close()
    await server.close()
    network.close()
    tick.stop()
  }
})
