// Issue 15, defect 3: a coordinator that is down is named, and an agent waiting for
// it keeps trying with a warning instead of dying with an uncaught error.
import assert from 'node:assert/strict'
import { createNetworkClient } from '../../client/mod.ts'
import { NetworkImpl, NotConnectedError, TickManagerImpl } from '../../core/mod.ts'
import { NetworkServer } from '../../server/mod.ts'
import { echoFactory, within } from '../security/_fixture.ts'
import { freePort } from '../cli/_cli.ts'
import { textOf, withLogs } from './_logs.ts'

Deno.test('3. a call to a coordinator that is down fails with NotConnectedError naming the address and the time tried', async () => {
  const address = `127.0.0.1:${freePort()}`
  await using client = await createNetworkClient(address, { connectTimeoutMs: 300 })
  const started = performance.now()
  const error = await within(3_000, 'the get', client.get('echo').catch((error) => error))
  assert.ok(error instanceof NotConnectedError, String(error))
  assert.match(
    error.message,
    new RegExp(`cannot reach the coordinator at ${address} within 300 ms`),
  )
  assert.ok(performance.now() - started < 2_000)
  await assert.rejects(client.request('x', 'echo'), NotConnectedError)
})

Deno.test('3. an agent that cannot reach the coordinator keeps trying with a warning and registers once it is up', async () => {
  await withLogs(async (records) => {
    const port = freePort()
    await using agent = await createNetworkClient(`127.0.0.1:${port}`, { connectTimeoutMs: 200 })
    const served = agent.serveAgent('127.0.0.1:0', { echo: echoFactory })
    await within(
      5_000,
      'a warning',
      (async () => {
        while (!records.some((record) => /is not registered: cannot reach/.test(textOf(record)))) {
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      })(),
    )
    const clock = new TickManagerImpl(20)
    clock.start()
    const network = new NetworkImpl(clock)
    const server = new NetworkServer(network, clock, { host: '127.0.0.1', port })
    try {
      await within(10_000, 'the registration', served)
      assert.deepEqual(network.kinds(), ['echo'])
    } finally {
      await agent.close()
      await server.close()
      await network.close()
      clock.stop()
    }
  })
})
