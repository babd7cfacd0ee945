import assert from 'node:assert/strict'
import process from 'node:process'
import {
  DealerSocket,
  InvalidArgumentError,
  type NetworkError,
  PeerUnreachableError,
  RouterSocket,
} from '../../rpc/mod.ts'
import { bytes, closeAll, closeAtEnd, text, waitFor, within } from './_helpers.ts'

const MESSAGES = 20_000
/** Messages to the stalled peer are large, so its pipe and TCP buffers fill soon. */
const LARGE = new Uint8Array(8192).fill(1)
const SMALL = new Uint8Array(16).fill(2)
const STALLED = bytes('stalled')
const READER = bytes('reader')

function seqFrame(seq: number): Uint8Array {
  const frame = new Uint8Array(4)
  new DataView(frame.buffer).setUint32(0, seq)
  return frame
}

function seqOf(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0)
}

/** Waits until the ROUTER has heard from a DEALER, so it can route to it. */
async function greet(heard: Set<string>, dealer: DealerSocket, name: string): Promise<void> {
  dealer.send([bytes('hello')])
  await waitFor(() => heard.has(name), 5000, `hello from ${name}`)
}

interface Setup extends AsyncDisposable {
  router: RouterSocket
  stalled: DealerSocket
  errors: NetworkError[]
  heard: Set<string>
  endpoint: string
}

/**
 * A ROUTER with a small send high-water mark, and a DEALER that reads nothing
 * (no onMessage, not iterated) with a small receive high-water mark; with `blocked`,
 * that many large messages sent to it block it. `await using` closes both.
 */
async function routerWithStalledPeer(blocked = 0): Promise<Setup> {
  const errors: NetworkError[] = []
  const heard = new Set<string>()
  const router = new RouterSocket({
    sendHighWaterMark: 10,
    onMessage: ([peer]) => heard.add(text(peer)),
    onError: (error) => errors.push(error),
  })
  const stalled = new DealerSocket({ routingId: STALLED, receiveHighWaterMark: 10 })
  const endpoint = router.bind('tcp://127.0.0.1:0')
  stalled.connect(endpoint)
  try {
    await greet(heard, stalled, 'stalled')
    if (blocked > 0) await block(router, blocked)
  } catch (error) {
    await closeAll([stalled, router])
    throw error
  }
  return {
    router,
    stalled,
    errors,
    heard,
    endpoint,
    [Symbol.asyncDispose]: () => closeAll([stalled, router]),
  }
}

/** Sends `count` large messages to the stalled peer and waits until it is blocked. */
async function block(router: RouterSocket, count: number): Promise<void> {
  for (let i = 0; i < count; i++) router.send([STALLED, seqFrame(i), LARGE])
  await waitFor(() => router.pendingFor(STALLED) < count, 5000, 'libzmq takes the first ones')
  let last = -1
  await waitFor(
    () => {
      const pending = router.pendingFor(STALLED)
      const settled = pending === last
      last = pending
      return settled && pending > 0
    },
    5000,
    'the stalled peer blocks',
  )
}

function cpuMs(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

Deno.test(
  'a stalled DEALER holds back only its own messages: another gets all of its, in order',
  async () => {
    await using setup = await routerWithStalledPeer()
    const { router, errors, heard, endpoint } = setup
    const received: number[] = []
    const reader = new DealerSocket({
      routingId: READER,
      onMessage: ([seq]) => received.push(seqOf(seq)),
    })
    await using _reader = closeAtEnd(reader)
    reader.connect(endpoint)
    await greet(heard, reader, 'reader')
    for (let i = 0; i < MESSAGES; i++) {
      router.send([STALLED, seqFrame(i), LARGE])
      router.send([READER, seqFrame(i), SMALL])
    }
    await waitFor(() => received.length === MESSAGES, 15_000, 'the reader gets every message')
    assert.deepEqual(received, Array.from({ length: MESSAGES }, (_, i) => i))
    assert.ok(router.pendingFor(STALLED) > 0, 'the stalled peer is still blocked')
    assert.equal(router.pendingFor(READER), 0)
    assert.equal(router.pendingSends, router.pendingFor(STALLED))
    assert.deepEqual(errors, [])
  },
)

Deno.test('messages to a blocked peer wait in its queue, which grows with every send', async () => {
  await using setup = await routerWithStalledPeer(5000)
  const { router, errors } = setup
  const samples = [router.pendingFor(STALLED)]
  for (let batch = 1; batch <= 5; batch++) {
    for (let i = 0; i < 500; i++) router.send([STALLED, seqFrame(batch * 10_000 + i), LARGE])
    assert.equal(router.pendingFor(STALLED), samples[samples.length - 1] + 500)
    // A few retries later, the peer's pipe and TCP buffers took little or nothing.
    await new Promise((resolve) => setTimeout(resolve, 20))
    samples.push(router.pendingFor(STALLED))
  }
  for (let i = 1; i < samples.length; i++) {
    assert.ok(samples[i] > samples[i - 1], `pending for the stalled peer: ${samples}`)
  }
  assert.equal(router.pendingSends, router.pendingFor(STALLED))
  assert.deepEqual(errors, [])
})

Deno.test(
  'after dropPeer, the peer gets what libzmq had taken, then everything sent after the drop',
  async () => {
    const sent = 5000
    await using setup = await routerWithStalledPeer(sent)
    const { router, stalled, errors } = setup
    const pending = router.pendingFor(STALLED)
    const dropped = router.dropPeer(STALLED)
    assert.equal(dropped, pending)
    assert.equal(router.pendingFor(STALLED), 0)
    assert.equal(router.pendingSends, 0)
    assert.equal(router.dropPeer(STALLED), 0)

    const AFTER = 100
    for (let i = 0; i < AFTER; i++) router.send([STALLED, seqFrame(1_000_000 + i), SMALL])
    assert.equal(router.pendingFor(STALLED), AFTER, 'later sends are queued afresh')

    // The rule: libzmq keeps and delivers what it took before the drop (the
    // first `sent - dropped` messages); the JS queue is gone; later sends follow.
    const taken = sent - dropped
    const expected = [
      ...Array.from({ length: taken }, (_, i) => i),
      ...Array.from({ length: AFTER }, (_, i) => 1_000_000 + i),
    ]
    const iterator = stalled[Symbol.asyncIterator]()
    const got: number[] = await within(15_000, 'the stalled peer reads', async () => {
      const seqs: number[] = []
      while (seqs.length < expected.length) {
        const next = await iterator.next()
        if (next.done) break
        seqs.push(seqOf(next.value[0]))
      }
      return seqs
    })
    assert.deepEqual(got, expected)
    const extra = await Promise.race([
      iterator.next().then((next) => (next.done ? 'end' : `message ${seqOf(next.value[0])}`)),
      new Promise<string>((resolve) => setTimeout(() => resolve('nothing'), 200)),
    ])
    assert.equal(extra, 'nothing')
    assert.equal(router.pendingSends, 0)
    assert.deepEqual(errors, [])
  },
)

Deno.test(
  'a blocked peer that disconnects is reported once as PeerUnreachableError and its queue dropped',
  async () => {
    await using setup = await routerWithStalledPeer(5000)
    const { router, stalled, errors } = setup
    const pending = router.pendingFor(STALLED)
    await stalled.close()
    await waitFor(() => errors.length > 0, 5000, 'the send error')
    assert.equal(errors.length, 1)
    const error = errors[0]
    assert.ok(error instanceof PeerUnreachableError)
    assert.equal(text(error.routingId), 'stalled')
    // libzmq may take a few more before it sees the disconnect; none after.
    assert.ok(
      error.discarded > 0 && error.discarded < pending,
      `${error.discarded} of ${pending}`,
    )
    assert.equal(router.pendingFor(STALLED), 0)
    assert.equal(router.pendingSends, 0)
  },
)

Deno.test('a ROUTER waiting on a blocked peer does not spin, and idles once it is dropped', async () => {
  await using setup = await routerWithStalledPeer(5000)
  const { router } = setup
  let started = cpuMs()
  await new Promise((resolve) => setTimeout(resolve, 500))
  const blockedCpu = cpuMs() - started
  assert.ok(blockedCpu < 100, `${blockedCpu.toFixed(1)} ms of CPU in 500 ms while blocked`)

  router.dropPeer(STALLED)
  await new Promise((resolve) => setTimeout(resolve, 20))
  started = cpuMs()
  await new Promise((resolve) => setTimeout(resolve, 500))
  const idleCpu = cpuMs() - started
  // A loop that spins costs the whole 500 ms; timers, GC and libzmq's threads, on a shared
  // machine, have taken up to 27 ms.
  assert.ok(idleCpu < 60, `${idleCpu.toFixed(1)} ms of CPU in 500 ms when idle`)
})

Deno.test('pendingFor and dropPeer count only the messages of the given peer', async () => {
  const errors: NetworkError[] = []
  const router = new RouterSocket({ onError: (error) => errors.push(error) })
  await using _sockets = closeAtEnd(router)
  router.bind('tcp://127.0.0.1:0')
  const a = bytes('peer-a')
  const b = bytes('peer-b')
  for (let i = 0; i < 3; i++) router.send([a, seqFrame(i)])
  for (let i = 0; i < 2; i++) router.send([b, seqFrame(i)])
  assert.equal(router.pendingFor(a), 3)
  assert.equal(router.pendingFor(bytes('peer-a')), 3, 'ids are compared by value')
  assert.equal(router.pendingFor(b), 2)
  assert.equal(router.pendingFor(bytes('nobody')), 0)
  assert.equal(router.pendingSends, 5)
  assert.equal(router.dropPeer(a), 3)
  assert.equal(router.pendingSends, 2)
  assert.throws(() => router.pendingFor('peer-b' as unknown as Uint8Array), InvalidArgumentError)
  assert.throws(() => router.dropPeer('peer-b' as unknown as Uint8Array), InvalidArgumentError)
  // Neither peer is connected: b's first message fails and takes its queue along.
  await waitFor(() => errors.length > 0, 2000, 'the send error')
  assert.equal(errors.length, 1)
  assert.ok(errors[0] instanceof PeerUnreachableError)
  assert.equal(text(errors[0].routingId), 'peer-b')
  assert.equal(errors[0].discarded, 1)
  assert.equal(router.pendingSends, 0)
})
