import assert from 'node:assert/strict'
import {
  ContainerNotFoundError,
  LimitExceededError,
  MessageTooLargeError,
  RemoteError,
  TimeoutError,
} from '../../core/mod.ts'
import { decode, encode } from '../../rpc/codec.ts'
import type { RpcClient } from '../../rpc/client.ts'
import type { RpcServer } from '../../rpc/server.ts'
import type { RequestHandler } from '../../rpc/session.ts'
import { rpcPair } from './_helpers.ts'

async function withPair(
  handler: RequestHandler,
  body: (client: RpcClient, server: RpcServer) => Promise<void>,
  clientOptions: Partial<ConstructorParameters<typeof RpcClient>[1]> = {},
): Promise<void> {
  await using pair = rpcPair({ handler }, clientOptions)
  await pair.client.waitConnection(5_000)
  await body(pair.client, pair.server)
}

/** A handler that fails with a TypeError carrying `code`, as code of another library would. */
function rejectWith(message: string, code: string): RequestHandler {
  return () => {
    const error = new TypeError(message)
    ;(error as TypeError & { code: string }).code = code
    return Promise.reject(error)
  }
}

Deno.test('a request round-trips values of every supported type', async () => {
  await withPair((request) => Promise.resolve(request.body), async (client) => {
    const value = {
      u: undefined,
      n: null,
      big: 2n ** 80n,
      bytes: new Uint8Array([1, 2, 3]),
      at: new Date(1_700_000_000_123),
      nested: [1.5, -2, 'x', [undefined, { deep: true }]],
    }
    assert.deepEqual(decode(await client.request('echo', encode(value))), value)
  })
})

Deno.test('a handler error comes back as a RemoteError with its name, message and code', async () => {
  await withPair(rejectWith('bad thing', 'E_BAD'), async (client) => {
    await assert.rejects(client.request('x', encode(1)), (error: unknown) => {
      assert.ok(error instanceof RemoteError)
      assert.equal(error.remoteName, 'TypeError')
      assert.equal(error.message, 'bad thing')
      assert.equal(error.code, 'E_BAD')
      return true
    })
  })
})

Deno.test('a handler error of one of our classes comes back as that class, marked remote', async () => {
  await withPair(
    () => Promise.reject(new ContainerNotFoundError('no container "c1"')),
    async (client) => {
      await assert.rejects(client.request('x', encode(1)), (error: unknown) => {
        assert.ok(error instanceof ContainerNotFoundError, String(error))
        assert.equal(error.message, 'no container "c1"')
        assert.equal(error.code, 'CONTAINER_NOT_FOUND')
        assert.equal(error.remote, true)
        return true
      })
    },
  )
})

Deno.test('errors of our classes that carry more than a message come back whole', async () => {
  const errors = [
    new LimitExceededError('sessions', 'sessions: this process serves 1 sessions'),
    new MessageTooLargeError('the answer to "x"', 2048, 1024),
  ]
  let next = 0
  await withPair(() => Promise.reject(errors[next++]), async (client) => {
    await assert.rejects(client.request('x', encode(1)), {
      name: 'LimitExceededError',
      limit: 'sessions',
    })
    await assert.rejects(client.request('x', encode(1)), (error: unknown) => {
      assert.ok(error instanceof MessageTooLargeError, String(error))
      assert.deepEqual([error.size, error.limit, error.message], [2048, 1024, errors[1].message])
      return true
    })
  })
})

Deno.test('a foreign error that borrows one of our codes stays a RemoteError', async () => {
  await withPair(rejectWith('not ours', 'CONTAINER_NOT_FOUND'), async (client) => {
    await assert.rejects(client.request('x', encode(1)), {
      name: 'RemoteError',
      remoteName: 'TypeError',
    })
  })
})

Deno.test('a local error is not marked remote', () => {
  assert.equal(new TimeoutError('late').remote, false)
  assert.equal(new RemoteError('TypeError', 'x').remote, true)
})

Deno.test('a request whose handler never answers fails with TimeoutError and the handler signal fires', async () => {
  const aborted = Promise.withResolvers<unknown>()
  await withPair((request) => {
    request.signal.addEventListener('abort', () => aborted.resolve(request.signal.reason))
    return new Promise(() => {})
  }, async (client) => {
    await assert.rejects(client.request('hang', encode(1), { timeoutMs: 200 }), TimeoutError)
    await aborted.promise
  })
})

Deno.test('an aborted request fails at once with the abort reason and the handler is aborted', async () => {
  const aborted = Promise.withResolvers<void>()
  const started = Promise.withResolvers<void>()
  await withPair((request) => {
    started.resolve()
    request.signal.addEventListener('abort', () => aborted.resolve())
    return new Promise(() => {})
  }, async (client) => {
    const controller = new AbortController()
    const pending = client.request('hang', encode(1), { signal: controller.signal })
    await started.promise
    controller.abort()
    await assert.rejects(pending, { name: 'AbortError' })
    await aborted.promise
  })
})

Deno.test('past the in-flight limit the server answers busy and the client re-sends until all are served', async () => {
  let running = 0
  let peak = 0
  await using pair = rpcPair({
    maxInFlight: 4,
    handler: async (request) => {
      peak = Math.max(peak, ++running)
      await new Promise((resolve) => setTimeout(resolve, 2))
      running--
      return request.body
    },
  }, { clientId: 'busy' })
  const { client } = pair
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) => client.request('work', encode(i)).then(decode)),
  )
  assert.deepEqual(answers, Array.from({ length: 200 }, (_, i) => i))
  assert.ok(peak <= 4, `at most 4 ran at once, saw ${peak}`)
})

Deno.test('a client of another protocol version gets a clear error', async () => {
  await using pair = rpcPair(
    { handler: (request) => Promise.resolve(request.body) },
    { clientId: 'old', protocolVersion: 99 },
  )
  const { client, server } = pair
  await assert.rejects(client.waitConnection(5_000), /unsupported protocol version 99/)
  await assert.rejects(client.request('x', encode(1)), /unsupported protocol version 99/)
  assert.equal(server.stats.rejected, 1)
})

Deno.test('events from the server arrive complete and in order', async () => {
  const received: number[] = []
  const all = Promise.withResolvers<void>()
  const count = 20_000
  await withPair((request) => Promise.resolve(request.body), async (_client, server) => {
    const session = server.sessions()[0]
    for (let i = 0; i < count; i++) session.event('tick', encode(i))
    await all.promise
    assert.deepEqual(received, Array.from({ length: count }, (_, i) => i))
  }, {
    onEvent: (_topic, _meta, body) => {
      received.push(decode(body) as number)
      if (received.length === count) all.resolve()
    },
  })
})
