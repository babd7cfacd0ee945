// Errors of our classes cross the wire as themselves (issue 16, item 4): an agent's
// ContainerNotFoundError is a ContainerNotFoundError at the client, whether the
// request went through the coordinator or straight to the agent's endpoint.
import assert from 'node:assert/strict'
import { AgentImpl, type AgentUuid, ContainerNotFoundError, RemoteError } from '../../core/mod.ts'
import type { ContainerReference, NetworkClient } from '../../client/mod.ts'
import { factoryOf } from '../core/_fixture.ts'
import { TestCoordinator, within } from '../security/_fixture.ts'

/** A container whose `lookup` finds nothing and whose `crash` throws a foreign error. */
const catalog = factoryOf(() => ({
  request: (operation, data) => {
    if (operation === 'lookup') throw new ContainerNotFoundError(`no record "${data}"`)
    throw new TypeError(`cannot ${operation}`)
  },
  connect: () => {},
  disconnect: () => {},
}))

function assertNotFound(error: unknown): true {
  assert.ok(error instanceof ContainerNotFoundError, `${error}`)
  assert.equal(error.message, 'no record "r1"')
  assert.equal(error.remote, true)
  return true
}

function assertForeign(error: unknown): true {
  assert.ok(error instanceof RemoteError, `${error}`)
  assert.equal(error.remoteName, 'TypeError')
  return true
}

/** Runs `body` with a client and its reference to a catalog on an agent with or without an endpoint. */
async function withCatalog(
  agentEndpoint: boolean,
  body: (client: NetworkClient, ref: ContainerReference) => Promise<void>,
): Promise<void> {
  await using network = new TestCoordinator(undefined)
  const agent = await network.client()
  if (agentEndpoint) await agent.serveAgent('127.0.0.1:0', { catalog })
  else await agent.register(new AgentImpl('catalog-agent' as AgentUuid, { catalog }))
  const client = await network.client()
  const ref = await client.get('catalog')
  await within(10_000, 'test body', body(client, ref))
  await ref.close()
}

Deno.test("an agent's ContainerNotFoundError arrives as ContainerNotFoundError through the coordinator", async () => {
  await withCatalog(false, async (client, ref) => {
    assert.equal(ref.endpoint.kind, 'network')
    await assert.rejects(client.request(ref.uuid, 'lookup', 'r1'), assertNotFound)
    await assert.rejects(client.request(ref.uuid, 'crash'), assertForeign)
  })
})

Deno.test("an agent's ContainerNotFoundError arrives as ContainerNotFoundError over a direct connection", async () => {
  await withCatalog(true, async (_client, ref) => {
    const connection = await ref.connect()
    await assert.rejects(connection.request('lookup', 'r1'), assertNotFound)
    await assert.rejects(connection.request('crash'), assertForeign)
    await connection.close()
  })
})
