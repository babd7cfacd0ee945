// The degraded at-most-once item of issue 14: with sessions dropped under load,
// requests ran twice. A request sent to a session that is gone must fail with
// OutcomeUnknownError, never run again.
import assert from 'node:assert/strict'
import { ManualTickManager } from '../../core/mod.ts'
import { encode } from '../../rpc/codec.ts'
import { RpcSession } from '../../rpc/session.ts'
import { parseMessage } from '../../rpc/_frames.ts'
import { rpcPair } from '../rpc/_helpers.ts'

Deno.test('requests in flight when the server drops the session fail as outcome unknown and never run twice', async () => {
  const runs = new Map<string, number>()
  await using pair = rpcPair(
    {
      handler: async (request) => {
        const key = new TextDecoder().decode(request.body)
        runs.set(key, (runs.get(key) ?? 0) + 1)
        await new Promise((resolve) => setTimeout(resolve, 200))
        return request.body
      },
    },
    { clientId: 'c1' },
    10,
  )
  const { server, client } = pair
  await client.waitConnection(5000)
  const inFlight = Array.from(
    { length: 200 },
    (_, i) => client.request('work', new TextEncoder().encode(`r${i}`)),
  )
  await new Promise((resolve) => setTimeout(resolve, 50))
  server.disconnect('c1', 'dropped under load')
  const outcomes = await Promise.allSettled(inFlight)
  for (const outcome of outcomes) {
    assert.equal(outcome.status, 'rejected')
    assert.ok(
      ['OutcomeUnknownError', 'ClosedError'].includes((outcome.reason as Error).name),
      String(outcome.reason),
    )
  }
  assert.ok(
    outcomes.some((o) => o.status === 'rejected' && o.reason.name === 'OutcomeUnknownError'),
  )
  await client.waitConnection(5000)
  assert.equal(
    new TextDecoder().decode(await client.request('work', encode('after'))).length > 0,
    true,
  )
  assert.ok([...runs.values()].every((count) => count === 1), 'a request ran twice')
})

Deno.test('a re-sent request whose answer the replay cache had no room for is refused, not run again', async () => {
  const clock = new ManualTickManager()
  let runs = 0
  const caller = new RpcSession(clock, () => Promise.reject(new Error('unused')))
  const server = new RpcSession(clock, (request) => {
    runs++
    return Promise.resolve(request.body)
  }, { replayCache: 1 })
  const toServer: Uint8Array[][] = []
  const toCaller: Uint8Array[][] = []
  server.attach((message) => toCaller.push(message))
  caller.attach((message) => toServer.push(message))
  const first = caller.request('work', encode(1))
  caller.request('work', encode(2)).catch(() => {})
  for (const message of toServer.splice(0)) {
    const { header, body } = parseMessage(message)
    server.receive(header, body)
  }
  await Promise.resolve()
  await Promise.resolve()
  // Both ran; the answers are lost and request 1 comes again: its answer was evicted.
  toCaller.length = 0
  const resent = toServer.length
  caller.detach()
  caller.attach((message) => toServer.push(message))
  for (const message of toServer.splice(resent)) {
    const { header, body } = parseMessage(message)
    server.receive(header, body)
  }
  for (const message of toCaller.splice(0)) {
    const { header, body } = parseMessage(message)
    caller.receive(header, body)
  }
  await assert.rejects(first, {
    name: 'OutcomeUnknownError',
    code: 'OUTCOME_UNKNOWN',
    remote: true,
  })
  assert.equal(runs, 2)
  caller.close()
  server.close()
})
