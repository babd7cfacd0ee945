// Issue 15, defect 10: a client coming and going (one per CLI command) leaves no line
// in the coordinator's log at the default level; those lines are debug.
import assert from 'node:assert/strict'
import { createNetworkClient } from '../../client/mod.ts'
import { TestCoordinator } from '../security/_fixture.ts'
import { textOf, withLogs } from './_logs.ts'

Deno.test('10. per-session log lines are debug: a client that comes and goes logs nothing at info', async () => {
  await withLogs(async (records) => {
    await using network = new TestCoordinator(undefined)
    const started = records.length // "listening" is worth a line
    for (let i = 0; i < 3; i++) {
      const client = await createNetworkClient(network.address)
      await client.kinds()
      await client.close()
    }
    assert.deepEqual(records.slice(started).map(textOf), [])
  }, 'info')
})
