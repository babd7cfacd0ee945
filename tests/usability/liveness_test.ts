// Issue 15, defect 4: the server honours each client's own liveness timeout (the
// `aliveMs` of its hello), within the bounds it sets, instead of its own for all.
import assert from 'node:assert/strict'
import { createNetworkClient } from '../../client/mod.ts'
import { clientAliveMs, MAX_CLIENT_ALIVE_MS } from '../../rpc/_liveness.ts'
import { echoFactory, TestCoordinator } from '../security/_fixture.ts'

Deno.test("4. a client that pings more slowly than the server's alive timeout keeps its session and references", async () => {
  await using network = new TestCoordinator(undefined) // the server drops after 1.5 s of silence
  const agent = await network.client()
  await agent.serveAgent('127.0.0.1:0', { echo: echoFactory })
  let disconnects = 0
  await using client = await createNetworkClient(network.address, {
    timeouts: { pingIntervalMs: 2000, aliveTimeoutMs: 6000 },
    onConnectionChange: (connected) => void (connected || disconnects++),
  })
  const ref = await client.get('echo', { uuid: 'slow-pinger' })
  const held: number[] = []
  for (let second = 0; second < 5; second++) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const status = network.network.snapshot().containers.find((c) => c.uuid === ref.uuid)
    held.push(status?.references ?? 0)
  }
  assert.deepEqual(held, [1, 1, 1, 1, 1])
  assert.equal(disconnects, 0)
  assert.equal(network.server.stats.dropped, 0)
})

Deno.test("4. a client's alive timeout is honoured between the server's own and 60 s", () => {
  assert.equal(clientAliveMs(20_000, 3_000), 20_000)
  assert.equal(clientAliveMs(1_000, 3_000), 3_000)
  assert.equal(clientAliveMs(3_600_000, 3_000), MAX_CLIENT_ALIVE_MS)
  assert.equal(clientAliveMs(undefined, 3_000), 3_000)
  assert.equal(clientAliveMs(Number.NaN, 3_000), 3_000)
  assert.equal(clientAliveMs(120_000, 90_000), 90_000)
})
