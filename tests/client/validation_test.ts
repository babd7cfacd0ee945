import assert from 'node:assert/strict'
import { createNetworkClient } from '../../client/mod.ts'
import { toEndpoint } from '../../internal.ts'
import { InvalidArgumentError, ManualTickManager } from '../../core/mod.ts'

// deno-lint-ignore no-explicit-any -- the point is to pass values the types forbid
const bad = (value: unknown): any => value

Deno.test('createNetworkClient rejects bad addresses and options with InvalidArgumentError', async () => {
  for (const address of ['', 'nohost', 'tcp://', 'host:port', 'http://x:1', bad(42)]) {
    await assert.rejects(createNetworkClient(address), InvalidArgumentError, String(address))
  }
  await assert.rejects(createNetworkClient('127.0.0.1:1', bad(null)), InvalidArgumentError)
  await assert.rejects(
    createNetworkClient('127.0.0.1:1', { timeouts: { aliveTimeoutMs: Number.NaN } }),
    InvalidArgumentError,
  )
  await assert.rejects(createNetworkClient('127.0.0.1:1', { clientId: '' }), InvalidArgumentError)
  assert.equal(toEndpoint('localhost:3737'), 'tcp://localhost:3737')
  assert.equal(toEndpoint('tcp://127.0.0.1:3737'), 'tcp://127.0.0.1:3737')
})

Deno.test('client methods reject malformed arguments locally', async () => {
  const clock = new ManualTickManager()
  const client = await createNetworkClient('127.0.0.1:1', { clock })
  try {
    await assert.rejects(client.get(''), InvalidArgumentError)
    await assert.rejects(client.get(bad(7)), InvalidArgumentError)
    await assert.rejects(client.get('echo', bad('x')), InvalidArgumentError)
    await assert.rejects(client.request('', 'op'), InvalidArgumentError)
    await assert.rejects(client.request('c1', ''), InvalidArgumentError)
    assert.throws(() => client.onUpdate(bad('nope')), InvalidArgumentError)
  } finally {
    await client.close()
  }
})
