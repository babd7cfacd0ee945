// Issue 15, defect 6: `new NetworkServer(network, clock, host, port)` (the seed
// document's positional form) is refused with the form to use, never ignored.
import assert from 'node:assert/strict'
import { InvalidArgumentError, ManualTickManager, NetworkImpl } from '../../core/mod.ts'
import { HttpEndpoint, NetworkServer } from '../../server/mod.ts'

type Positional = new (...args: unknown[]) => unknown

Deno.test('6. new NetworkServer(network, clock, host, port) is refused with an InvalidArgumentError that says to pass { host, port }', async () => {
  const clock = new ManualTickManager()
  const network = new NetworkImpl(clock)
  try {
    assert.throws(
      () => new (NetworkServer as unknown as Positional)(network, clock, '127.0.0.9', 45999),
      (error: unknown) =>
        error instanceof InvalidArgumentError &&
        /new NetworkServer\(network, clock, \{ host, port \}\) must be an object, got a string/
          .test(error.message),
    )
    assert.throws(
      () => new NetworkServer(network, clock, { host: 42 as unknown as string, port: 0 }),
      InvalidArgumentError,
    )
  } finally {
    await network.close()
  }
})

Deno.test('6. new HttpEndpoint(server, clock, host, port) is refused the same way', async () => {
  const clock = new ManualTickManager()
  const network = new NetworkImpl(clock)
  const server = new NetworkServer(network, clock, { host: '127.0.0.1', port: 0 })
  try {
    assert.throws(
      () => new (HttpEndpoint as unknown as Positional)(server, clock, '127.0.0.1', 0),
      /new HttpEndpoint\(server, clock, \{ host, port \}\) must be an object/,
    )
  } finally {
    await server.close()
    await network.close()
  }
})
