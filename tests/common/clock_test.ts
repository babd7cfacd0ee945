import assert from 'node:assert/strict'
import { InvalidArgumentError, ManualTickManager, TickManagerImpl } from '../../core/mod.ts'
import { test } from '../core/_fixture.ts'

test('a handler registered every N seconds runs once per N seconds of clock time', async () => {
  const clock = new ManualTickManager()
  const runs: number[] = []
  const start = clock.now()
  clock.register(() => {
    runs.push(clock.now() - start)
  }, 2)
  await clock.advance(1_999)
  assert.deepEqual(runs, [])
  await clock.advance(6_001)
  assert.deepEqual(runs, [2_000, 4_000, 6_000, 8_000])
})

test('an unregistered handler never runs again', async () => {
  const clock = new ManualTickManager()
  let runs = 0
  const unregister = clock.register(() => {
    runs++
  }, 1)
  await clock.advance(2_000)
  unregister()
  await clock.advance(10_000)
  assert.equal(runs, 2)
})

test('a throwing handler does not stop the others', async () => {
  const clock = new ManualTickManager()
  let runs = 0
  clock.register(() => {
    throw new Error('handler failure')
  }, 1)
  clock.register(() => Promise.reject(new Error('async handler failure')), 1)
  clock.register(() => {
    runs++
  }, 1)
  await clock.advance(3_000)
  assert.equal(runs, 3)
})

test('one-shot timers run in time order and can be cancelled', async () => {
  const clock = new ManualTickManager()
  const order: string[] = []
  clock.schedule(() => order.push('late'), 300)
  clock.schedule(() => order.push('early'), 100)
  const cancel = clock.schedule(() => order.push('cancelled'), 200)
  cancel()
  await clock.advance(1_000)
  assert.deepEqual(order, ['early', 'late'])
})

test('invalid intervals and tick rates throw at once', () => {
  const clock = new ManualTickManager()
  for (const interval of [0, -1, NaN, Infinity, '1' as unknown as number]) {
    assert.throws(() => clock.register(() => {}, interval), InvalidArgumentError)
  }
  for (const rate of [0, -5, NaN, Infinity]) {
    assert.throws(() => new TickManagerImpl(rate), InvalidArgumentError)
  }
  assert.throws(() => new TickManagerImpl(5000), InvalidArgumentError)
  assert.throws(() => clock.schedule(() => {}, -1), InvalidArgumentError)
  assert.throws(() => clock.register('nope' as unknown as () => void, 1), InvalidArgumentError)
})

test('the real clock ticks, runs due handlers and stops cleanly', async () => {
  const clock = new TickManagerImpl(100)
  let runs = 0
  clock.register(() => {
    runs++
  }, 0.01)
  clock.start()
  try {
    await clock.waitTick(5)
    assert.ok(runs >= 1, `expected handler runs, got ${runs}`)
  } finally {
    clock.stop()
  }
  await clock.waitTick(1)
})
