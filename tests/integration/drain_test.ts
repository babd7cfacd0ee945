// Draining a served agent over the wire: requests (routed and over a connection) go
// on across the move, the state is handed over, and connections follow with a notice.
import assert from 'node:assert/strict'
import { demoKinds } from '../../cli/_demo_kinds.ts'
import type { ContainerFactory, ContainerRecord } from '../../core/mod.ts'
import { TestCoordinator, within } from '../security/_fixture.ts'
import { textOf, withLogs } from '../usability/_logs.ts'

Deno.test('requests go on across a drain, the counter keeps its value and connections follow', async () => {
  await using network = new TestCoordinator(undefined)
  const host1 = await network.client()
  const served1 = await host1.serveAgent('127.0.0.1:0', demoKinds, { agentId: 'a1' })
  const user = await network.client()
  const ref = await user.get('counter', { uuid: 'c1' })
  const events: number[] = []
  const moves: ContainerRecord[] = []
  const connection = await ref.connect({
    on: (event) => void events.push((event as { value: number }).value),
    onMoved: (record) => void moves.push(record),
  })
  const host2 = await network.client()
  await host2.serveAgent('127.0.0.1:0', demoKinds, { agentId: 'a2' })

  const answers: number[] = []
  let running = true
  const loop = async (send: () => Promise<unknown>) => {
    while (running) answers.push(await send() as number)
  }
  const loops = [
    loop(() => ref.request('increment')),
    loop(() => connection.request('increment')),
  ]
  await new Promise((resolve) => setTimeout(resolve, 100))
  const result = await within(10_000, 'drain', served1.drain({ deadlineMs: 5_000 }))
  await new Promise((resolve) => setTimeout(resolve, 200))
  running = false
  await Promise.all(loops)

  assert.equal(result.moved, 1)
  assert.equal(result.complete, true)
  assert.equal(ref.record.agentId, 'a2')
  const metrics = network.server.metrics.registry.render()
  assert.match(metrics, /^huly_network_moves_total\{kind="counter",outcome="moved"\} 1$/m)
  assert.match(metrics, /^huly_network_handed_over_bytes_total [1-9]/m)
  assert.match(metrics, /^huly_network_agents_draining 1$/m)
  assert.match(metrics, /^huly_network_held_request_wait_seconds_count \d+$/m)
  assert.deepEqual((await user.agents()).map((a) => [a.agentId, a.draining ?? false]), [
    ['a1', true],
    ['a2', false],
  ])
  assert.deepEqual(moves.map((record) => record.agentId), ['a2'])
  // Every increment ran once, none was lost: the answers are exactly 1..n.
  const sorted = [...answers].sort((a, b) => a - b)
  assert.deepEqual(sorted, sorted.map((_, i) => i + 1))
  assert.equal(await ref.request('get'), answers.length)
  // The handler stayed attached: events of the new copy arrive.
  const before = events.length
  await connection.request('increment')
  await within(
    2_000,
    'event',
    (async () => {
      while (events.length === before) await new Promise((resolve) => setTimeout(resolve, 10))
    })(),
  )
  assert.equal(events.at(-1), answers.length + 1)
})

Deno.test('a hand-over over the limit is refused with HandOverTooLargeError, logged, and the container starts fresh', async () => {
  await withLogs(async (records) => {
    await using network = new TestCoordinator(undefined)
    const starts: unknown[] = []
    const big: ContainerFactory = (options) => {
      starts.push(options.handedOver)
      return Promise.resolve({
        uuid: options.uuid,
        container: {
          request: () => Promise.resolve(null),
          handOver: () => Promise.resolve('x'.repeat(2 * 1024 * 1024)),
        },
      })
    }
    const host1 = await network.client()
    const served1 = await host1.serveAgent('127.0.0.1:0', { big }, { agentId: 'a1' })
    const host2 = await network.client()
    await host2.serveAgent('127.0.0.1:0', { big }, { agentId: 'a2' })
    const user = await network.client()
    const ref = await user.get('big', { uuid: 'b1' })
    const result = await within(10_000, 'drain', served1.drain({ deadlineMs: 5_000 }))
    assert.equal(result.moved, 1)
    assert.deepEqual(starts, [undefined, undefined])
    assert.equal(ref.record.agentId, 'a2')
    const refused = records.find((record) => textOf(record).includes('HandOverTooLargeError'))
    assert.ok(refused, 'the refusal is logged')
    assert.match(textOf(refused), /over the limit of 1048576 bytes/)
  })
})
