import assert from 'node:assert/strict'
import { AgentImpl, type AgentUuid } from '../../core/mod.ts'
import { curveKeyPair } from '../../rpc/mod.ts'
import { connects, echoFactory, peer, TestCoordinator, withAuditLog } from './_fixture.ts'

Deno.test('a listed key connects; an unknown key, a wrong server key and a plain client are refused', async () => {
  const known = peer('known', 'client')
  await using coordinator = new TestCoordinator([known])
  const good = await coordinator.client(known.keys)
  assert.equal(await connects(good, 5000), true)
  assert.deepEqual(await good.kinds(), [])

  const unknown = await coordinator.client(curveKeyPair())
  const wrongServer = await coordinator.client(known.keys, curveKeyPair().publicKey)
  const plain = await coordinator.client(undefined)
  const [a, b, c] = await Promise.all(
    [unknown, wrongServer, plain].map((client) => connects(client)),
  )
  assert.deepEqual({ unknown: a, wrongServer: b, plain: c }, {
    unknown: false,
    wrongServer: false,
    plain: false,
  })
})

Deno.test('a client key cannot register agents; an agent key registers only its kinds', async () => {
  const client = peer('frontend', 'client')
  const agent = peer('worker', 'agent', { kinds: ['echo'] })
  await using coordinator = new TestCoordinator([client, agent])
  const asClient = await coordinator.client(client.keys)
  await assert.rejects(
    asClient.register(new AgentImpl('a-client' as AgentUuid, { echo: echoFactory })),
    { name: 'AuthorizationError', code: 'FORBIDDEN', remote: true },
  )
  const asAgent = await coordinator.client(agent.keys)
  await assert.rejects(
    asAgent.register(new AgentImpl('a-shell' as AgentUuid, { shell: echoFactory })),
    { name: 'AuthorizationError', code: 'FORBIDDEN', remote: true },
  )
  await asAgent.register(new AgentImpl('a-echo' as AgentUuid, { echo: echoFactory }))
  assert.deepEqual((await asClient.agents()).map((record) => record.agentId), ['a-echo'])
  // An agent key is not a client: it may not use containers.
  await assert.rejects(asAgent.get('echo'), { name: 'AuthorizationError', remote: true })
  const ref = await asClient.get('echo')
  assert.equal(await ref.request('echo', 'hi'), 'hi')
})

Deno.test("another key using a live session's client id gets a session of its own, not the owner's", async () => {
  const owner = peer('owner', 'agent')
  const intruder = peer('intruder', 'admin')
  await using coordinator = new TestCoordinator([owner, intruder])
  const first = await coordinator.client(owner.keys)
  await first.register(new AgentImpl('owned' as AgentUuid, { echo: echoFactory }))
  const { createNetworkClient } = await import('../../client/mod.ts')
  await using copy = await createNetworkClient(coordinator.address, {
    clientId: first.clientId,
    timeouts: { pingIntervalMs: 250, aliveTimeoutMs: 1500 },
    socket: { curve: { serverKey: coordinator.keys.publicKey, ...intruder.keys } },
  })
  await copy.waitConnection(5000)
  const ref = await copy.get('echo', { uuid: 'e1' })
  assert.equal(await ref.request('caller'), `intruder/${first.clientId}`)
  // Even an admin cannot speak for an agent another connection registered.
  await assert.rejects(
    copy.register(new AgentImpl('owned' as AgentUuid, { echo: echoFactory })),
    { code: 'FORBIDDEN' },
  )
  assert.deepEqual((await first.agents()).map((record) => record.agentId), ['owned'])
})

Deno.test('a refused key is audited once per interval, not at every connection it tries', async () => {
  await withAuditLog(async (records) => {
    await using coordinator = new TestCoordinator([peer('known', 'client')])
    const stranger = curveKeyPair()
    // Three sockets with one key: three refusals, one record.
    const clients = await Promise.all([1, 2, 3].map(() => coordinator.client(stranger)))
    const connected = await Promise.all(clients.map((client) => connects(client, 1500)))
    assert.deepEqual(connected, [false, false, false])
    const refused = records.filter((record) => record.properties.event === 'refused')
    assert.equal(refused.length, 1)
    assert.equal(refused[0].properties.publicKey, stranger.publicKey)
    assert.equal(refused[0].properties.address, '127.0.0.1')
    assert.equal(JSON.stringify(refused[0].properties).includes(stranger.secretKey), false)
  })
})

Deno.test('containers see the caller as its key name and client id, routed or direct, whatever client id another key picks', async () => {
  const agent = peer('worker', 'agent')
  const alice = peer('alice', 'client')
  const mallory = peer('mallory', 'client')
  await using coordinator = new TestCoordinator([agent, alice, mallory])
  const host = await coordinator.client(agent.keys)
  await host.serveAgent('127.0.0.1:0', { echo: echoFactory }, { agentId: 'worker-1' })
  const asAlice = await coordinator.client(alice.keys)
  const ref = await asAlice.get('echo', { uuid: 'e1' })
  const direct = await ref.connect()
  assert.equal(await ref.request('caller'), `alice/${asAlice.clientId}`)
  assert.equal(await direct.request('caller'), `alice/${asAlice.clientId}`)
  // Mallory picks Alice's client id: she is still herself to every container.
  const { createNetworkClient } = await import('../../client/mod.ts')
  await using asMallory = await createNetworkClient(coordinator.address, {
    clientId: asAlice.clientId,
    timeouts: { pingIntervalMs: 250, aliveTimeoutMs: 1500 },
    socket: { curve: { serverKey: coordinator.keys.publicKey, ...mallory.keys } },
  })
  const stolen = await asMallory.get('echo', { uuid: 'e1' })
  assert.equal(await stolen.request('caller'), `mallory/${asAlice.clientId}`)
  assert.equal(await (await stolen.connect()).request('caller'), `mallory/${asAlice.clientId}`)
  assert.equal(await direct.request('caller'), `alice/${asAlice.clientId}`)
})
