import assert from 'node:assert/strict'
import { InvalidArgumentError, ManualTickManager, TickManagerImpl } from '../../core/mod.ts'
import { test } from '../core/_fixture.ts'

test('a handler run every N ms runs once per N ms of clock time', async () => {
  const clock = new ManualTickManager()
  const runs: number[] = []
  const start = clock.now()
  clock.every(() => {
    runs.push(clock.now() - start)
  }, 2000)
  await clock.advance(1_999)
  assert.deepEqual(runs, [])
  await clock.advance(6_001)
  assert.deepEqual(runs, [2_000, 4_000, 6_000, 8_000])
})

test('a stopped handler never runs again', async () => {
  const clock = new ManualTickManager()
  let runs = 0
  const stop = clock.every(() => {
    runs++
  }, 1000)
  await clock.advance(2_000)
  stop()
  await clock.advance(10_000)
  assert.equal(runs, 2)
})

test('a throwing handler does not stop the others', async () => {
  const clock = new ManualTickManager()
  let runs = 0
  clock.every(() => {
    throw new Error('handler failure')
  }, 1000)
  clock.every(() => Promise.reject(new Error('async handler failure')), 1000)
  clock.every(() => {
    runs++
  }, 1000)
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
    assert.throws(() => clock.every(() => {}, interval), InvalidArgumentError)
  }
  for (const rate of [0, -5, NaN, Infinity]) {
    assert.throws(() => new TickManagerImpl(rate), InvalidArgumentError)
  }
  assert.throws(() => new TickManagerImpl(5000), InvalidArgumentError)
  assert.throws(() => clock.schedule(() => {}, -1), InvalidArgumentError)
  assert.throws(() => clock.every('nope' as unknown as () => void, 1000), InvalidArgumentError)
})

test('the real clock ticks, runs due handlers and stops cleanly', async () => {
  const clock = new TickManagerImpl(100)
  let runs = 0
  clock.every(() => {
    runs++
  }, 10)
  clock.start()
  try {
    await clock.waitTick(5)
    assert.ok(runs >= 1, `expected handler runs, got ${runs}`)
  } finally {
    clock.stop()
  }
  await clock.waitTick(1)
})
