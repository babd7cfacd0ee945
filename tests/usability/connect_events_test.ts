// Issue 15, defect 1: events a container sends as a client connects are not lost.
import assert from 'node:assert/strict'
import { PENDING_EVENT_LIMIT } from '../../client/mod.ts'
import { AgentImpl, type AgentUuid, type Broadcast } from '../../core/mod.ts'
import { factoryOf } from '../core/_fixture.ts'
import { TestCoordinator, within } from '../security/_fixture.ts'

/** A room that greets each client as it connects and sends `n` events on `burst`. */
const greeter = factoryOf(() => {
  const members = new Map<string, Broadcast>()
  return {
    request: (_operation, data, from) => {
      const n = (data as { n: number }).n
      for (let i = 0; i < n; i++) members.get(from!)?.({ i })
      return Promise.resolve(n)
    },
    connect: (clientId, broadcast) => {
      members.set(clientId, broadcast)
      broadcast({ hello: clientId })
    },
    disconnect: (clientId) => void members.delete(clientId),
  }
})

async function withGreeter(
  fn: (network: TestCoordinator, agentEndpoint: boolean) => Promise<void>,
): Promise<void> {
  for (const agentEndpoint of [true, false]) {
    await using network = new TestCoordinator(undefined)
    const agent = await network.client()
    if (agentEndpoint) await agent.serveAgent('127.0.0.1:0', { greeter })
    else await agent.register(new AgentImpl('routed-agent' as AgentUuid, { greeter }))
    await within(10_000, 'test body', fn(network, agentEndpoint))
  }
}

Deno.test('1. events sent when a client connects reach the handler given to connect({ on })', async () => {
  await withGreeter(async (network) => {
    const client = await network.client()
    const ref = await client.get('greeter')
    const hello = Promise.withResolvers<unknown>()
    await using _connection = await ref.connect({ on: (event) => hello.resolve(event) })
    assert.deepEqual(await hello.promise, { hello: client.clientId })
  })
})

Deno.test('1. events sent when a client connects are held until on is set, in order', async () => {
  await withGreeter(async (network) => {
    const client = await network.client()
    const ref = await client.get('greeter')
    await using connection = await ref.connect()
    await connection.request('burst', { n: 3 })
    const events: unknown[] = []
    connection.on = (event) => void events.push(event)
    assert.deepEqual(events, [{ hello: client.clientId }, { i: 0 }, { i: 1 }, { i: 2 }])
    assert.equal(connection.droppedEvents, 0)
  })
})

Deno.test('1. events past the holding bound with no handler are counted, not silently lost', async () => {
  await withGreeter(async (network) => {
    const client = await network.client()
    const ref = await client.get('greeter')
    await using connection = await ref.connect()
    await connection.request('burst', { n: PENDING_EVENT_LIMIT + 4 })
    assert.equal(connection.droppedEvents, 5) // the greeting took one place
    const events: unknown[] = []
    connection.on = (event) => void events.push(event)
    assert.equal(events.length, PENDING_EVENT_LIMIT)
    assert.deepEqual(events[0], { hello: client.clientId })
  })
})
