import assert from 'node:assert/strict'
import { ZMQ_PAIR } from '../../../rpc/zmq/_constants.ts'
import { NativeSocket, sharedContext } from '../../../rpc/zmq/_native.ts'
import { reactor } from '../../../rpc/zmq/_reactor.ts'
import { waitFor } from '../_helpers.ts'

Deno.test('the reactor pumps a pollable that asked for a retry, once, though its fd stays quiet', async () => {
  const native = new NativeSocket(sharedContext().handle, ZMQ_PAIR)
  const pumps: number[] = []
  const pollable = {
    fd: native.fd,
    pump: () => {
      pumps.push(performance.now())
      native.events() // drains the fd, as a socket's pump does
    },
  }
  try {
    reactor.add(pollable)
    await waitFor(() => pumps.length === 1, 1000, 'the first pump')
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(pumps.length, 1, 'a quiet fd is not pumped')

    const asked = performance.now()
    reactor.retryAfter(pollable, 10)
    await waitFor(() => pumps.length === 2, 1000, 'the retry')
    assert.ok(pumps[1] - asked >= 9, `retried after ${(pumps[1] - asked).toFixed(1)} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(pumps.length, 2, 'a retry is pumped once')
  } finally {
    await reactor.remove(pollable)
    native.close()
  }
})
