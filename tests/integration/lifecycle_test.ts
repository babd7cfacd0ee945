import assert from 'node:assert/strict'
import { createNetworkClient } from '../../client/mod.ts'
import { AgentImpl, type AgentUuid } from '../../core/mod.ts'
import { NetworkOperation } from '../../internal.ts'
import type { RpcClient } from '../../rpc/client.ts'
import { encode } from '../../rpc/codec.ts'
import { emitTo, Proc, startAgent, startCoordinator, startNetwork, within } from './_process.ts'

Deno.test('a client that dies is disconnected from its containers, direct and through the network, and they end after the unused timeout', async () => {
  await using coordinator = await startCoordinator()
  const { endpoint } = coordinator
  await using direct = await startAgent(endpoint, 'agent-direct')
  await using routed = await startAgent(endpoint, 'agent-routed', 'network')
  await using first = new Proc('holder-1', './_holder.ts', [endpoint, 'u1'])
  const [, clientId] = await first.waitFor(/^holding u1 as (\S+) via routed$/)
  await using second = new Proc('holder-2', './_holder.ts', [endpoint, 'u2'])
  const [, clientId2] = await second.waitFor(/^holding u2 as (\S+) via network$/)
  await direct.waitFor(new RegExp(`^connected u1 ${clientId}$`))
  await routed.waitFor(new RegExp(`^connected u2 ${clientId2}$`))

  first.kill('SIGKILL')
  second.kill('SIGKILL')
  await within(10_000, 'disconnects', async () => {
    await direct.waitFor(new RegExp(`^disconnected u1 ${clientId}$`))
    await routed.waitFor(new RegExp(`^disconnected u2 ${clientId2}$`))
  })
  await direct.waitFor(/^terminated u1$/, 10_000)
  await routed.waitFor(/^terminated u2$/, 10_000)
})

Deno.test('only the connection that registered an agent may speak for it or unregister it; a client releases only what it holds', async () => {
  await using coordinator = await startCoordinator()
  await using owner = await createNetworkClient(coordinator.endpoint)
  await using intruder = await createNetworkClient(coordinator.endpoint)
  await owner.register(new AgentImpl('owned' as AgentUuid, {}))
  await assert.rejects(
    intruder.register(new AgentImpl('owned' as AgentUuid, {})),
    { name: 'AuthorizationError', code: 'FORBIDDEN', remote: true },
  )
  // The client API has no way to unregister someone else's agent; speak the protocol.
  const raw = (intruder as unknown as { rpc: RpcClient }).rpc
  await assert.rejects(
    raw.request(NetworkOperation.unregister, encode({ agentId: 'owned' })),
    { name: 'AuthorizationError', code: 'FORBIDDEN', remote: true },
  )
  await assert.rejects(
    raw.request(NetworkOperation.get, encode({ kind: '', options: {} })),
    { name: 'InvalidArgumentError', code: 'INVALID_ARGUMENT', remote: true },
  )
  assert.equal(
    await raw.request(NetworkOperation.release, encode({ uuid: 'not-held' })).then((b) => b[0]),
    0xc2, // MessagePack false
  )
  assert.deepEqual((await owner.agents()).map((a) => a.agentId), ['owned'])
})

Deno.test('a connection follows its container when it is placed again on another agent', async () => {
  await using net = await startNetwork({ agents: ['agent-1', 'agent-2'] })
  const { agents, client } = net
  const ref = await client.get('echo', { uuid: 'wanderer' })
  const connection = await ref.connect()
  const events: unknown[] = []
  connection.on = (data) => {
    events.push(data)
  }
  const before = await connection.request('who') as { agentId: string }
  const victim = agents.find((agent) => agent.name === before.agentId)!
  const removed = Promise.withResolvers<void>()
  client.onUpdate((event) => {
    if (event.containers.some((c) => c.type === 'removed' && c.container.uuid === 'wanderer')) {
      removed.resolve()
    }
  })
  victim.kill('SIGKILL')
  await within(10_000, 'removal event', () => removed.promise)
  const after = await within(
    15_000,
    'request after the move',
    () => connection.request('who') as Promise<{ agentId: string }>,
  )
  assert.notEqual(after.agentId, before.agentId)
  await emitTo(connection, events, 'after the move', 'event after the move')
  assert.deepEqual(events, ['after the move'])
  await ref.close()
})

Deno.test('a client reports its connection going down and up, and closes at once when the coordinator is gone', async () => {
  const changes: boolean[] = []
  const changed = () => {
    const { promise, resolve } = Promise.withResolvers<void>()
    const seen = changes.length
    const timer = setInterval(() => changes.length > seen && resolve(), 20)
    return promise.finally(() => clearInterval(timer))
  }
  await using net = await startNetwork({
    client: {
      timeouts: { aliveTimeoutMs: 2000, pingIntervalMs: 500 },
      onConnectionChange: (connected) => {
        changes.push(connected)
      },
    },
  })
  const { client } = net
  await client.waitConnection(10_000)
  assert.deepEqual(changes, [true])
  await client.serveAgent('127.0.0.1:0', {}, { agentId: 'served' })
  const down = changed()
  await net.coordinator.stop()
  await within(5_000, 'disconnect noticed', () => down)
  assert.deepEqual(changes, [true, false])
  const up = changed()
  await net.restartCoordinator()
  await within(10_000, 'reconnect noticed', () => up)
  assert.deepEqual(changes, [true, false, true])
  assert.deepEqual((await client.agents()).map((a) => a.agentId), ['served'])
  await net.coordinator.stop()
  const started = performance.now()
  await client.close()
  assert.ok(performance.now() - started < 3_000, 'close does not wait for a dead coordinator')
})
