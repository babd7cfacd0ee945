// A tap on loopback relays the TCP traffic of a client to the coordinator, and of a
// client's direct link to an agent endpoint, and looks for a marker payload.
import assert from 'node:assert/strict'
import { freePort } from '../cli/_cli.ts'
import { TappingRelay } from '../rpc/_tapping_relay.ts'
import { echoFactory, peer, TestCoordinator, type TestPeer } from './_fixture.ts'

const MARKER = 'TAP-MARKER-5c1e0b7d'

/** Sends the marker through a tapped coordinator link and a tapped agent endpoint. */
async function exchange(secure: boolean): Promise<{ coordinator: boolean; endpoint: boolean }> {
  const agent = peer('worker', 'agent')
  const user = peer('user', 'client')
  await using coordinator = new TestCoordinator(secure ? [agent, user] : undefined)
  const coordinatorTap = new TappingRelay(Number(coordinator.address.split(':')[1]))
  const endpointPort = freePort()
  const endpointTap = new TappingRelay(endpointPort)
  const keysOf = (who: TestPeer) => secure ? who.keys : undefined
  try {
    const host = await coordinator.client(keysOf(agent))
    await host.serveAgent(`127.0.0.1:${endpointPort}`, { echo: echoFactory }, {
      agentId: 'tapped',
      advertise: `tcp://127.0.0.1:${endpointTap.port}`,
    })
    const client = await coordinator.client(
      keysOf(user),
      coordinator.keys.publicKey,
      `127.0.0.1:${coordinatorTap.port}`,
    )
    const ref = await client.get('echo', { uuid: 'tap-1' })
    assert.equal(ref.endpoint.kind, 'routed')
    assert.equal(ref.endpoint.kind === 'routed' && ref.endpoint.publicKey !== undefined, secure)
    assert.equal(
      await ref.request('echo', `${MARKER} through the coordinator`),
      `${MARKER} through the coordinator`,
    )
    const connection = await ref.connect()
    assert.equal(await connection.request('echo', `${MARKER} direct`), `${MARKER} direct`)
    assert.ok(coordinatorTap.bytes > 0 && endpointTap.bytes > 0)
    return { coordinator: coordinatorTap.saw(MARKER), endpoint: endpointTap.saw(MARKER) }
  } finally {
    await coordinatorTap.close()
    await endpointTap.close()
  }
}

Deno.test('without keys the marker is seen on both taps (the taps work)', async () => {
  assert.deepEqual(await exchange(false), { coordinator: true, endpoint: true })
})

Deno.test('with keys no plaintext of the marker crosses the coordinator link or the agent endpoint', async () => {
  assert.deepEqual(await exchange(true), { coordinator: false, endpoint: false })
})
