import assert from 'node:assert/strict'
import { ProtocolError } from '../../core/mod.ts'
import { eventHeader, frames, Kind, parseMessage } from '../../rpc/_frames.ts'
import { decode, encode } from '../../rpc/codec.ts'

const body = encode('data')

Deno.test({
  name: 'event headers are reused only for the same topic and an equal meta',
  sanitizeOps: true,
  sanitizeResources: true,
  fn() {
    const first = eventHeader('container', { uuid: 'a' })
    assert.equal(eventHeader('container', { uuid: 'a' }), first)
    const cases: [string, unknown][] = [
      ['container', { uuid: 'b' }],
      ['container', { uuid: 'a', clientId: 'c' }],
      ['container', { id: 'a' }],
      ['network', { uuid: 'a' }],
      ['container', { uuid: { nested: 'a' } }],
      ['container', ['a']],
      ['container', undefined],
      ['container', null],
      ['container', { uuid: 'a' }],
    ]
    for (const [topic, meta] of cases) {
      const { header } = parseMessage([eventHeader(topic, meta), body])
      assert.deepEqual(header, { kind: Kind.event, topic, meta }, JSON.stringify([topic, meta]))
    }
  },
})

Deno.test({
  name: 'a repeated header parses to the same result, and a wrong frame count is still refused',
  sanitizeOps: true,
  sanitizeResources: true,
  fn() {
    const header = eventHeader('container', { uuid: 'x' })
    for (let i = 0; i < 3; i++) {
      const parsed = parseMessage([header.slice(), encode(i)])
      assert.deepEqual(parsed.header, { kind: Kind.event, topic: 'container', meta: { uuid: 'x' } })
      assert.equal(decode(parsed.body), i)
    }
    assert.throws(() => parseMessage([header.slice()]), ProtocolError)
    const request = frames(
      { kind: Kind.request, id: 7, operation: 'op', timeoutMs: 5, meta: 1 },
      body,
    )
    assert.equal(parseMessage(request).header.kind, Kind.request)
    const event = parseMessage([header, body])
    assert.deepEqual(event.header, { kind: Kind.event, topic: 'container', meta: { uuid: 'x' } })
  },
})

Deno.test({
  name: 'a request may carry an ack, which must be a number',
  sanitizeOps: true,
  sanitizeResources: true,
  fn() {
    const request = { kind: Kind.request, id: 9, operation: 'op', timeoutMs: 5, meta: null, ack: 8 }
    // Every parsed request has a `trace` field (one shape for V8), undefined when not traced.
    assert.deepEqual(parseMessage(frames(request, body)).header, { ...request, trace: undefined })
    const traced = { ...request, trace: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
    assert.deepEqual(parseMessage(frames(traced, body)).header, traced)
    const bad = encode([Kind.request, 9, 'op', 5, null, null, 'eight'])
    assert.throws(() => parseMessage([bad, body]), ProtocolError)
  },
})
