import assert from 'node:assert/strict'
import { DealerSocket, type NetworkError, RouterSocket } from '../../rpc/mod.ts'
import { closeAtEnd, deferred, within } from './_helpers.ts'

const RUNS = 20
const MESSAGES = 100_000
const WINDOW = 2_000
const RUN_TIMEOUT_MS = 30_000

/**
 * Payload sizes: mostly small, some medium, a few of 1 MiB, empty ones included.
 * About 30 MB cross the wire each way per run.
 */
function payloadSize(seq: number): number {
  if (seq % 10_000 === 5_000) return 1 << 20
  if (seq % 200 === 7) return 16_384 + (seq % 50_000)
  if (seq % 5 === 0) return 0
  return seq % 97
}

const payloads = new Map<number, Uint8Array>()
/** The payload of `seq`: shared per size, its bytes a function of the size. */
function payload(seq: number): Uint8Array {
  const size = payloadSize(seq)
  let data = payloads.get(size)
  if (data === undefined) {
    data = new Uint8Array(size)
    for (let i = 0; i < size; i++) data[i] = (i * 7 + size) & 0xff
    payloads.set(size, data)
  }
  return data
}

/** A message of 1 to 4 frames: the sequence number, then payload and empty frames. */
function message(seq: number): Uint8Array[] {
  const header = new Uint8Array(4)
  new DataView(header.buffer).setUint32(0, seq)
  const body = payload(seq)
  switch (seq % 4) {
    case 0:
      return [header]
    case 1:
      return [header, body]
    case 2:
      return [header, new Uint8Array(0), body]
    default:
      return [header, body, new Uint8Array(0), body]
  }
}

/**
 * What goes on the wire for `seq`: with batching, every third message is one frame
 * starting with 0xc1, like a batch, so the socket must wrap it to keep it apart.
 */
function wire(seq: number, batch: boolean): Uint8Array[] {
  if (!batch || seq % 3 !== 0) return message(seq)
  const parts = message(seq)
  const lookalike = new Uint8Array(1 + parts.reduce((sum, part) => sum + 4 + part.length, 0))
  const view = new DataView(lookalike.buffer)
  lookalike[0] = 0xc1
  let offset = 1
  for (const part of parts) {
    view.setUint32(offset, part.length)
    lookalike.set(part, offset + 4)
    offset += 4 + part.length
  }
  return [lookalike]
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  // Checking a sample of bytes keeps the test fast; lengths are checked in full.
  const step = Math.max(1, a.length >> 6)
  for (let i = 0; i < a.length; i += step) if (a[i] !== b[i]) return false
  return a.length === 0 || a[a.length - 1] === b[b.length - 1]
}

/** Checks that `frames` is exactly message `expected`; returns a problem or ''. */
function check(frames: Uint8Array[], expected: number, batch: boolean): string {
  const want = wire(expected, batch)
  if (want.length === 1 && want[0][0] === 0xc1) {
    if (frames.length !== 1 || !sameBytes(frames[0], want[0])) {
      return `message ${expected}: the batch look-alike changed`
    }
    return ''
  }
  if (frames.length !== want.length) return `message ${expected}: ${frames.length} frames`
  const seq = new DataView(frames[0].buffer, frames[0].byteOffset, 4).getUint32(0)
  if (seq !== expected) return `expected message ${expected}, got ${seq}`
  for (let i = 1; i < want.length; i++) {
    if (!sameBytes(frames[i], want[i])) return `message ${expected}: frame ${i} differs`
  }
  return ''
}

async function exchange(batch: boolean): Promise<void> {
  const problems: string[] = []
  const errors: NetworkError[] = []
  let serverExpected = 0
  const router = new RouterSocket({
    batch,
    onError: (error) => errors.push(error),
    onMessage: ([peer, ...frames]) => {
      const problem = check(frames, serverExpected++, batch)
      if (problem !== '') problems.push(`server: ${problem}`)
      router.send([peer, ...frames])
    },
  })
  let clientExpected = 0
  let sent = 0
  const done = deferred()
  const dealer = new DealerSocket({
    batch,
    onError: (error) => errors.push(error),
    onMessage: (frames) => {
      const problem = check(frames, clientExpected++, batch)
      if (problem !== '') problems.push(`client: ${problem}`)
      if (sent < MESSAGES) dealer.send(wire(sent++, batch))
      if (clientExpected === MESSAGES || problems.length > 0) done.resolve()
    },
  })
  await using _sockets = closeAtEnd(dealer, router)
  dealer.connect(router.bind('tcp://127.0.0.1:0'))
  while (sent < WINDOW) dealer.send(wire(sent++, batch))
  await done.promise
  assert.deepEqual(problems.slice(0, 5), [])
  assert.deepEqual(errors, [])
  assert.equal(serverExpected, MESSAGES)
  assert.equal(clientExpected, MESSAGES)
}

for (let run = 1; run <= RUNS; run++) {
  // Half the runs pack queued messages into batches on both sides.
  const batch = run % 2 === 0
  Deno.test(
    `stress ${run}/${RUNS}${
      batch ? ' (batched)' : ''
    }: ${MESSAGES} multipart messages of 0 B..1 MiB echo in order, none lost or duplicated`,
    () => within(RUN_TIMEOUT_MS, `stress run ${run}`, () => exchange(batch)),
  )
}
