// deno-lint-ignore-file no-console -- the tests report their rates
import assert from 'node:assert/strict'
import type { NetworkEvent } from '../../core/mod.ts'
import { startNetwork, type TestNetwork, within } from './_process.ts'

/** Coordinator + `agentCount` echo agents + this process as the client; always torn down. */
async function withNetwork(
  agentCount: number,
  fn: (setup: TestNetwork) => Promise<void>,
  timeoutMs = 60_000,
): Promise<void> {
  await using net = await startNetwork({
    agents: Array.from({ length: agentCount }, (_, i) => `agent-${i + 1}`),
  })
  await net.client.waitConnection(10_000)
  await within(timeoutMs, 'test body', () => fn(net))
}

const payload = (i: number) => ({ hello: 'world', index: i, tags: ['a', 'b'], nested: { x: 1.5 } })

Deno.test('three processes: get, request, cast, connect and events, close; the container ends after the unused timeout', async () => {
  await withNetwork(1, async ({ agents: [agent], client }) => {
    const ref = await client.get('echo', { labels: ['demo'] })
    assert.equal(ref.kind, 'echo')
    assert.equal(ref.endpoint.kind, 'routed')
    assert.deepEqual(await ref.request('echo', payload(1)), payload(1))
    const calc = ref.cast<{ add(a: number, b: number): number }>('Calc')
    assert.equal(await calc.add(40, 2), 42)

    const connection = await ref.connect()
    const events: unknown[] = []
    const got = Promise.withResolvers<void>()
    connection.on = (data) => {
      events.push(data)
      if (events.length === 3) got.resolve()
    }
    await agent.waitFor(new RegExp(`^connected ${ref.uuid} `))
    assert.deepEqual(await connection.request('echo', 'direct'), 'direct')
    await connection.request('burst', { n: 3 })
    await got.promise
    assert.deepEqual(events, [{ i: 0 }, { i: 1 }, { i: 2 }])
    await connection.close()
    await agent.waitFor(new RegExp(`^disconnected ${ref.uuid} `))

    await ref.close()
    await agent.waitFor(new RegExp(`^terminated ${ref.uuid}$`), 10_000)
    assert.deepEqual(await client.list('echo'), [])
  })
})

Deno.test('values of every supported type round-trip through routed requests, connections and events', async () => {
  await withNetwork(1, async ({ client }) => {
    const value = {
      u: undefined,
      n: null,
      int: -42,
      float: 1.25,
      big: 2n ** 70n,
      text: 'héllo ✓',
      bytes: new Uint8Array([0, 255, 7]),
      at: new Date(1_700_000_000_123),
      nested: [[1, undefined, { deep: [null, 'x'] }]],
    }
    const ref = await client.get('echo')
    assert.deepEqual(await ref.request('echo', value), value)
    const connection = await ref.connect()
    assert.deepEqual(await connection.request('echo', value), value)
    const event = Promise.withResolvers<unknown>()
    connection.on = (data) => event.resolve(data)
    await connection.request('emit', value)
    assert.deepEqual(await event.promise, value)
    await ref.close()
  })
})

Deno.test('10k requests with 64 in flight are all answered, routed and over a connection', async () => {
  await withNetwork(1, async ({ client }) => {
    const ref = await client.get('echo')
    const connection = await ref.connect()
    const ways = [['routed', ref.request.bind(ref)], [
      'connection',
      connection.request.bind(connection),
    ]] as const
    for (const [way, send] of ways) {
      const started = performance.now()
      let next = 0
      let answered = 0
      const worker = async () => {
        while (next < 10_000) {
          const i = next++
          const answer = await send('echo', payload(i)) as { index: number }
          assert.equal(answer.index, i)
          answered++
        }
      }
      await Promise.all(Array.from({ length: 64 }, worker))
      assert.equal(answered, 10_000)
      const seconds = (performance.now() - started) / 1000
      console.log(
        `${way}: 10k requests in ${seconds.toFixed(2)} s (${(10_000 / seconds).toFixed(0)}/s)`,
      )
    }
    await ref.close()
  })
})

Deno.test('a burst of 100k events from one container reaches a connected client complete and in order', async () => {
  await withNetwork(1, async ({ client }) => {
    const ref = await client.get('echo')
    const connection = await ref.connect()
    let expected = 0
    let outOfOrder = 0
    const all = Promise.withResolvers<void>()
    connection.on = (data) => {
      if ((data as { i: number }).i !== expected) outOfOrder++
      if (++expected === 100_000) all.resolve()
    }
    const started = performance.now()
    await connection.request('burst', { n: 100_000 }, { timeoutMs: 60_000 })
    await all.promise
    const seconds = (performance.now() - started) / 1000
    console.log(`100k events in ${seconds.toFixed(2)} s (${(100_000 / seconds).toFixed(0)}/s)`)
    assert.equal(outOfOrder, 0)
    await ref.close()
  }, 90_000)
})

Deno.test('killing an agent: clients see the removal within aliveTimeout + 1 s, and the reference moves to another agent', async () => {
  await withNetwork(2, async ({ agents, client }) => {
    const ref = await client.get('echo', { uuid: 'moving' })
    const first = await ref.request('who') as { agentId: string }
    const victim = agents.find((agent) => agent.name === first.agentId)!
    const removed = Promise.withResolvers<number>()
    client.onUpdate((event: NetworkEvent) => {
      if (event.containers.some((c) => c.type === 'removed' && c.container.uuid === 'moving')) {
        removed.resolve(performance.now())
      }
    })
    const killedAt = performance.now()
    victim.kill('SIGKILL')
    const seenAt = await removed.promise
    assert.ok(seenAt - killedAt < 3_000 + 1_500, `removal seen after ${seenAt - killedAt} ms`)
    const second = await ref.request('who') as { agentId: string; uuid: string }
    assert.notEqual(second.agentId, first.agentId)
    assert.equal(second.uuid, 'moving')
    await ref.close()
  })
})

Deno.test('a request to a handler that never answers fails with a timeout; an aborted one fails at once', async () => {
  await withNetwork(1, async ({ client }) => {
    const ref = await client.get('echo')
    await assert.rejects(ref.request('hang', null, { timeoutMs: 300 }), { name: 'TimeoutError' })
    const controller = new AbortController()
    const pending = ref.request('hang', null, { signal: controller.signal })
    controller.abort()
    await assert.rejects(pending, { name: 'AbortError' })
    await assert.rejects(ref.request('nope', null), {
      name: 'RemoteError',
      message: /unknown operation nope/,
    })
    await ref.close()
  })
})
