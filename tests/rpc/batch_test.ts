import assert from 'node:assert/strict'
import { splitBatch, takeBatch } from '../../rpc/_batch.ts'
import { Fifo } from '../../rpc/_fifo.ts'

const bytes = (...values: number[]) => new Uint8Array(values)
const peer = bytes(0, 1, 2, 3, 4)

function queue(messages: Uint8Array[][]): Fifo<Uint8Array[]> {
  const fifo = new Fifo<Uint8Array[]>()
  for (const message of messages) fifo.push(message)
  return fifo
}

Deno.test('batch: queued messages to one peer round-trip through one batch, in order', () => {
  const messages = [[peer, bytes(1), bytes(2, 3)], [peer, bytes(4)], [peer, bytes(5), bytes()]]
  const batch = takeBatch(queue(messages), 1, 100)
  assert.ok(batch !== null)
  assert.equal(batch.count, 3)
  assert.equal(batch.frames.length, 2)
  assert.deepEqual(batch.frames[0], peer)
  assert.equal(batch.frames[1][0], 0xc1)
  assert.deepEqual(splitBatch(batch.frames, 1), messages)
})

Deno.test('batch: a single ordinary message goes as it is', () => {
  assert.equal(takeBatch(queue([[bytes(1), bytes(2)]]), 0, 100), null)
  assert.equal(splitBatch([bytes(1), bytes(2)], 0), null)
})

Deno.test('batch: a message that looks like a batch is wrapped, even alone', () => {
  const lookalike = [bytes(0xc1, 1, 1, 0, 0, 0, 9)]
  const batch = takeBatch(queue([lookalike]), 0, 100)
  assert.ok(batch !== null)
  assert.equal(batch.count, 1)
  assert.deepEqual(splitBatch(batch.frames, 0), [lookalike])
})

Deno.test('batch: the limit and large frames end a batch', () => {
  const small = [bytes(1)]
  assert.equal(takeBatch(queue([small, small, small]), 0, 2)?.count, 2)
  const large = [new Uint8Array(20_000)]
  assert.equal(takeBatch(queue([small, small, large, small]), 0, 100)?.count, 2)
  assert.equal(takeBatch(queue([large, small]), 0, 100), null)
})

Deno.test('batch: blobs that do not parse are not batches', () => {
  const cases: Uint8Array[] = [
    bytes(0xc1), // no message
    bytes(0xc1, 0), // a message of no frames
    bytes(0xc1, 1, 5, 0, 0), // a cut length
    bytes(0xc1, 1, 5, 0, 0, 0, 1, 2), // a frame longer than the blob
    bytes(0xc1, 1, 0xff, 0xff, 0xff, 0xff), // a huge length
    bytes(0xc1, 1, 1, 0, 0, 0, 7, 2), // trailing garbage: a message with a cut frame count
  ]
  for (const blob of cases) assert.equal(splitBatch([blob], 0), null, `${blob}`)
  assert.equal(splitBatch([bytes(1, 1, 1, 0, 0, 0, 7)], 0), null, 'no mark')
  assert.equal(splitBatch([bytes(0xc1, 1, 1, 0, 0, 0, 7), bytes()], 0), null, 'two frames')
  assert.equal(splitBatch([bytes()], 0), null, 'empty frame')
})

Deno.test('batch: random blobs never throw', () => {
  for (let i = 0; i < 10_000; i++) {
    const blob = crypto.getRandomValues(new Uint8Array(i % 64))
    blob[0] = 0xc1
    const result = splitBatch([peer, blob], 1)
    if (result !== null) { for (const message of result) assert.deepEqual(message[0], peer) }
  }
})
