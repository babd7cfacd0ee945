import assert from 'node:assert/strict'
import { ManualTickManager, TimeoutError } from '../../core/mod.ts'
import { parseMessage } from '../../rpc/_frames.ts'
import { decode, encode } from '../../rpc/codec.ts'
import { type RequestHandler, RpcSession } from '../../rpc/session.ts'

/** Two sessions joined by hand: what one sends, the other receives when `deliver` runs. */
function pair(handler: RequestHandler, options = {}) {
  const clock = new ManualTickManager()
  const caller = new RpcSession(clock, () => Promise.reject(new Error('unused')), options)
  const server = new RpcSession(clock, handler, options)
  const toServer: Uint8Array[][] = []
  const toCaller: Uint8Array[][] = []
  caller.attach((message) => toServer.push(message))
  server.attach((message) => toCaller.push(message))
  const deliver = async () => {
    for (let i = 0; i < 10; i++) {
      for (const message of toServer.splice(0)) {
        const { header, body } = parseMessage(message)
        server.receive(header, body)
      }
      for (const message of toCaller.splice(0)) {
        const { header, body } = parseMessage(message)
        caller.receive(header, body)
      }
      await Promise.resolve()
    }
  }
  return { clock, caller, server, toServer, toCaller, deliver }
}

Deno.test({
  name: 'a request re-sent after a reconnect runs at most once, and its answer arrives once',
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    let runs = 0
    const gate = Promise.withResolvers<void>()
    const { caller, toServer, toCaller, deliver } = pair(async (request) => {
      runs++
      await gate.promise
      return request.body
    })
    const answer = caller.request('work', encode('once'))
    await deliver()
    // The connection drops: the caller re-sends while the handler still runs.
    caller.detach()
    caller.attach((message) => toServer.push(message))
    await deliver()
    // It drops again, and this time the answer is lost on the way.
    caller.detach()
    gate.resolve()
    for (let i = 0; i < 10; i++) await Promise.resolve()
    assert.equal(toCaller.length, 1)
    toCaller.length = 0
    // Back again: the re-sent request is answered from the replay cache, not run.
    caller.attach((message) => toServer.push(message))
    await deliver()
    assert.equal(decode(await answer), 'once')
    assert.equal(runs, 1)
    caller.close()
  },
})

Deno.test({
  name: 'answers the caller has settled are forgotten: the replay cache holds only unsettled ones',
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const gate = Promise.withResolvers<void>()
    const { caller, server, deliver } = pair(async (request) => {
      if (decode(request.body) === 'slow') await gate.promise
      return request.body
    })
    for (let i = 0; i < 5; i++) {
      assert.equal(decode(await deliverAnd(deliver, caller.request('work', encode(i)))), i)
    }
    // Each request told the server the ones before it were settled.
    assert.equal(server.rememberedAnswers, 1)
    const slow = caller.request('work', encode('slow'))
    await deliver()
    assert.equal(decode(await deliverAnd(deliver, caller.request('work', encode(5)))), 5)
    gate.resolve()
    await deliver()
    assert.equal(decode(await slow), 'slow')
    // While the slow one was pending, the answer after it could not be forgotten.
    assert.equal(server.rememberedAnswers, 2)
    await deliverAnd(deliver, caller.request('work', encode(6)))
    assert.equal(server.rememberedAnswers, 1)
    caller.close()
  },
})

async function deliverAnd<T>(deliver: () => Promise<void>, answer: Promise<T>): Promise<T> {
  await deliver()
  return await answer
}

Deno.test({
  name:
    'a request fails with TimeoutError at its own deadline, and the server handler is aborted then',
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    let aborted: unknown = undefined
    const { clock, caller, deliver } = pair((request) => {
      request.signal.addEventListener('abort', () => aborted = request.signal.reason)
      return new Promise(() => {})
    })
    const answer = caller.request('hang', encode(null), { timeoutMs: 5_000 })
    const failed = assert.rejects(answer, TimeoutError)
    await deliver()
    await clock.advance(4_999)
    assert.equal(aborted, undefined)
    await clock.advance(1)
    await failed
    await deliver()
    assert.equal((aborted as Error | undefined)?.name, 'TimeoutError')
    caller.close()
  },
})

Deno.test({
  name: 'past maxInFlight the server answers busy, and the caller re-sends later until served',
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const gates: Array<() => void> = []
    const { clock, caller, deliver } = pair(
      (request) => new Promise((resolve) => gates.push(() => resolve(request.body))),
      { maxInFlight: 2 },
    )
    const answers = [1, 2, 3].map((i) => caller.request('work', encode(i)))
    await deliver()
    assert.equal(gates.length, 2)
    gates.splice(0).forEach((open) => open())
    await deliver()
    await clock.advance(10)
    await deliver()
    assert.equal(gates.length, 1)
    gates[0]()
    await deliver()
    assert.deepEqual((await Promise.all(answers)).map(decode), [1, 2, 3])
    caller.close()
  },
})

Deno.test({
  name: 'a restarted peer numbers its requests from 1 again and is not answered from the old cache',
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const { caller, server, deliver } = pair((request) => Promise.resolve(request.body))
    assert.equal(
      decode(await Promise.all([caller.request('a', encode('first')), deliver()]).then(([b]) => b)),
      'first',
    )
    server.resetIncoming()
    const fresh = new RpcSession(new ManualTickManager(), () => Promise.reject(new Error('unused')))
    const replies: Uint8Array[][] = []
    server.attach((message) => replies.push(message))
    fresh.attach((message) => {
      const { header, body } = parseMessage(message)
      server.receive(header, body)
    })
    const second = fresh.request('a', encode('second'))
    await Promise.resolve()
    await Promise.resolve()
    for (const message of replies) {
      const { header, body } = parseMessage(message)
      fresh.receive(header, body)
    }
    assert.equal(decode(await second), 'second')
    caller.close()
    fresh.close()
  },
})

Deno.test({
  name:
    'an answer larger than the replay budget is not kept: a re-send of it fails instead of running twice',
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    let runs = 0
    const { caller, server, toServer, toCaller, deliver } = pair(() => {
      runs++
      return Promise.resolve(new Uint8Array(4096))
    }, { replayCacheBytes: 1024 })
    const answer = caller.request('big', encode(null))
    for (const message of toServer.splice(0)) {
      const { header, body } = parseMessage(message)
      server.receive(header, body)
    }
    for (let i = 0; i < 10; i++) await Promise.resolve()
    assert.equal(toCaller.length, 1)
    toCaller.length = 0 // the answer is lost on the way
    caller.attach((message) => toServer.push(message))
    await deliver()
    await assert.rejects(answer, { name: 'RemoteError', code: 'ANSWER_GONE' })
    assert.equal(runs, 1)
    caller.close()
  },
})

Deno.test({
  name: 'a forwarded request that follows an incoming one is cancelled when that one is aborted',
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    let aborted: unknown = undefined
    const backend = pair((request) => {
      request.signal.addEventListener('abort', () => aborted = request.signal.reason)
      return new Promise(() => {})
    })
    // The middle forwards each request it serves to the backend, following it.
    const front = pair((request) =>
      backend.caller.request(request.operation, request.body, { follows: request })
    )
    const controller = new AbortController()
    const answer = front.caller.request('hang', encode(null), { signal: controller.signal })
    const deliverAll = async () => {
      await front.deliver()
      await backend.deliver()
      await front.deliver()
    }
    await deliverAll()
    assert.equal(backend.caller.pendingCount, 1)
    controller.abort()
    await assert.rejects(answer, { name: 'AbortError' })
    await deliverAll()
    assert.equal(backend.caller.pendingCount, 0)
    assert.equal((aborted as Error | undefined)?.name, 'ClosedError')
    front.caller.close()
    backend.caller.close()
  },
})
