// The operation table: every body is checked before a handler sees it.
import assert from 'node:assert/strict'
import { InvalidArgumentError, ProtocolError } from '../../core/mod.ts'
import { checkParams, dispatcher } from '../../internal.ts'
import { test } from './_fixture.ts'

test('a well-formed body comes back as the typed parameters of its operation', () => {
  assert.deepEqual(checkParams('network.release', { uuid: 'c1' }), { uuid: 'c1' })
  assert.deepEqual(checkParams('network.get', { kind: 'echo' }), {
    kind: 'echo',
    options: { labels: [] },
  })
  assert.deepEqual(checkParams('network.kinds', null), {})
  assert.deepEqual(
    checkParams('agent.moveOut', { agentId: 'a1', uuid: 'c1', deadlineMs: 0 }),
    { agentId: 'a1', uuid: 'c1', deadlineMs: 0 },
  )
})

test('a body of the wrong shape is refused with InvalidArgumentError naming the field', () => {
  const cases: Array<[Parameters<typeof checkParams>[0], unknown, RegExp]> = [
    ['network.release', { uuid: 42 }, /uuid/],
    ['network.release', 'c1', /parameters of network\.release must be an object/],
    ['network.release', [1], /must be an object/],
    ['network.get', { kind: '' }, /kind/],
    ['network.get', { kind: 'echo', options: { labels: 'a' } }, /labels/],
    ['network.get', { kind: 'echo', options: { extra: [] } }, /extra/],
    ['network.identify', {}, /publicKey/],
    ['network.drain', { agentId: 'a1', deadlineMs: '5' }, /deadlineMs/],
    ['network.register', { registration: { agentId: 'a1', kinds: 'echo' } }, /kinds/],
    ['agent.start', { agentId: 'a1', options: null }, /options/],
    ['agent.connect', { agentId: 'a1', uuid: 'c1' }, /clientId/],
    ['agent.moveOut', { agentId: 'a1', uuid: 'c1', deadlineMs: -1 }, /deadlineMs/],
  ]
  for (const [operation, body, message] of cases) {
    assert.throws(
      () => checkParams(operation, body),
      (error: unknown) => error instanceof InvalidArgumentError && message.test(error.message),
      `${operation} ${JSON.stringify(body)}`,
    )
  }
})

test('the dispatcher runs a handler only on checked parameters, and refuses unknown operations', async () => {
  const seen: unknown[] = []
  const dispatch = dispatcher('container', {
    'container.connect': (params, caller: string) => {
      seen.push([caller, params])
      return null
    },
    'container.disconnect': () => null,
  }, (operation) => new ProtocolError(`unknown container operation "${operation}"`))
  assert.equal(
    await dispatch('container.connect', { uuid: 'c1', extra: 'dropped' }, 'client-1'),
    null,
  )
  assert.deepEqual(seen, [['client-1', { uuid: 'c1' }]])
  await assert.rejects(dispatch('container.connect', { uuid: 7 }, 'client-1'), InvalidArgumentError)
  await assert.rejects(dispatch('container.request', {}, 'client-1'), ProtocolError)
  await assert.rejects(dispatch('network.get', { kind: 'echo' }, 'client-1'), ProtocolError)
  assert.equal(seen.length, 1)
})
