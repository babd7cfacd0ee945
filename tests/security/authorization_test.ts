import assert from 'node:assert/strict'
import { createNetworkClient, type NetworkClient } from '../../client/mod.ts'
import type { ContainerUuid, EndpointRef, NetworkEvent } from '../../core/mod.ts'
import { echoFactory, peer, TestCoordinator, withAuditLog, within } from './_fixture.ts'

const forbidden = { name: 'AuthorizationError', code: 'FORBIDDEN', remote: true }

/** A coordinator with an agent serving `echo` on its own endpoint, and two tenants and an admin. */
async function tenants() {
  const agent = peer('worker', 'agent', { kinds: ['echo'] })
  const ws42 = peer('frontend-42', 'client', { labels: ['workspace:42'] })
  const ws7 = peer('frontend-7', 'client', { labels: ['workspace:7'] })
  const admin = peer('ops', 'admin')
  const coordinator = new TestCoordinator([agent, ws42, ws7, admin])
  const host = await coordinator.client(agent.keys)
  await host.serveAgent('127.0.0.1:0', { echo: echoFactory }, { agentId: 'worker-1' })
  return {
    coordinator,
    ws42: await coordinator.client(ws42.keys),
    ws7: await coordinator.client(ws7.keys),
    admin: await coordinator.client(admin.keys),
  }
}

Deno.test('a client limited to workspace:42 cannot get or request a workspace:7 container', async () => {
  const { coordinator, ws42, ws7 } = await tenants()
  await using _ = coordinator
  const seven = await ws7.get('echo', { uuid: 'workspace:7/c7', labels: ['workspace:7'] })
  assert.equal(await seven.request('echo', 'mine'), 'mine')

  await assert.rejects(ws42.get('echo', { uuid: 'workspace:7/c7' }), forbidden)
  await assert.rejects(ws42.get('echo', { labels: ['workspace:7'] }), forbidden)
  await assert.rejects(ws42.get('echo'), forbidden) // a new one would not carry workspace:42
  await assert.rejects(ws42.request('workspace:7/c7', 'echo', 'steal'), forbidden)

  const own = await ws42.get('echo', { labels: ['workspace:42', 'user:1'] })
  assert.deepEqual(await own.request('whoami'), ['workspace:42', 'user:1'])
})

Deno.test("at the agent endpoint, a direct request to another workspace's container is refused too", async () => {
  const { coordinator, ws42, ws7 } = await tenants()
  await using _ = coordinator
  await ws7.get('echo', { uuid: 'workspace:7/c7', labels: ['workspace:7'] })
  const own = await ws42.get('echo', { labels: ['workspace:42'] })
  const connection = await own.connect()
  assert.equal(await connection.request('echo', 'direct'), 'direct')
  assert.equal(own.endpoint.kind, 'routed')
  // The client API only sends to containers it holds; speak the protocol to the endpoint.
  const internal = ws42 as unknown as {
    link(endpoint: EndpointRef): string | undefined
    routedRequest(
      via: string | undefined,
      target: ContainerUuid,
      op: string,
      data: unknown,
    ): Promise<unknown>
  }
  const via = internal.link(own.endpoint)
  assert.notEqual(via, undefined)
  await assert.rejects(
    internal.routedRequest(via, 'workspace:7/c7' as ContainerUuid, 'echo', 'x'),
    forbidden,
  )
})

Deno.test('listings and events show a restricted client only its containers; an admin sees all', async () => {
  const { coordinator, ws42, ws7, admin } = await tenants()
  await using _ = coordinator
  const seen = (client: NetworkClient) => {
    const uuids: string[] = []
    client.onUpdate((event: NetworkEvent) => {
      for (const change of event.containers) uuids.push(change.container.uuid)
    })
    return uuids
  }
  const by42 = seen(ws42)
  const byAdmin = seen(admin)
  await ws7.get('echo', { uuid: 'workspace:7/c7', labels: ['workspace:7'] })
  await ws42.get('echo', { uuid: 'workspace:42/c42', labels: ['workspace:42'] })
  assert.deepEqual((await ws42.list()).map((record) => record.uuid), ['workspace:42/c42'])
  assert.deepEqual((await admin.list()).map((record) => record.uuid).sort(), [
    'workspace:42/c42',
    'workspace:7/c7',
  ])
  await within(
    5000,
    'admin events',
    (async () => {
      while (!byAdmin.includes('workspace:7/c7') || !byAdmin.includes('workspace:42/c42')) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      while (!by42.includes('workspace:42/c42')) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })(),
  )
  assert.equal(by42.includes('workspace:7/c7'), false)
})

Deno.test('a refusal is an audit record with who, what and when, and no secret key', async () => {
  await withAuditLog(async (records) => {
    const { coordinator, ws42, ws7 } = await tenants()
    await using _ = coordinator
    await ws7.get('echo', { uuid: 'workspace:7/c7', labels: ['workspace:7'] })
    await assert.rejects(ws42.request('workspace:7/c7', 'echo', 'x'), forbidden)
    const denied = records.find((record) => record.properties.event === 'denied')
    assert.ok(denied, 'an audit record of the denial')
    assert.equal(denied.level, 'warning')
    assert.equal(denied.properties.peer, 'frontend-42')
    assert.match(
      String(denied.properties.action),
      /use echo container workspace:7\/c7 \[workspace:7\]/,
    )
    assert.match(String(denied.properties.at), /^\d{4}-\d\d-\d\dT/)
    const text = JSON.stringify(records.map((record) => record.properties))
    assert.equal(text.includes(coordinator.keys.secretKey), false)
  })
})

Deno.test('a reload that narrows a grant applies at the next operation, without a disconnect', async () => {
  const agent = peer('worker', 'agent')
  const user = peer('user', 'client', { labels: ['workspace:42'] })
  await using coordinator = new TestCoordinator([agent, user])
  const host = await coordinator.client(agent.keys)
  await host.serveAgent('127.0.0.1:0', { echo: echoFactory }, { agentId: 'worker-1' })
  const changes: boolean[] = []
  await using client = await createNetworkClient(coordinator.address, {
    timeouts: { pingIntervalMs: 250, aliveTimeoutMs: 1500 },
    socket: { curve: { serverKey: coordinator.keys.publicKey, ...user.keys } },
    onConnectionChange: (connected) => void changes.push(connected),
  })
  const ref = await client.get('echo', { labels: ['workspace:42'] })
  assert.equal(await ref.request('echo', 'before'), 'before')
  coordinator.server.setPeers([
    agent.grant,
    { ...user.grant, labels: ['workspace:43'] },
  ])
  await assert.rejects(ref.request('echo', 'after'), forbidden)
  assert.deepEqual(await client.list(), [])
  assert.deepEqual(changes, [true]) // connected once, never lost
})
