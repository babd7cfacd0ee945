// A mixed network: the coordinator on one transport, the agent (with its own
// endpoint) and the client on the other, with and without CURVE. Requests go
// through the coordinator and straight to the agent, and events reach the client.
import assert from 'node:assert/strict'
import { createNetworkClient } from '../../client/mod.ts'
import type { Broadcast, ClientUuid, ContainerFactory } from '../../core/mod.ts'
import { curveKeyPair, type Transport } from '../../rpc/mod.ts'
import { startCoordinator } from '../../server/mod.ts'
import { within } from '../_within.ts'

/** Echoes requests; `shout` also pushes the data to every connected client. */
const room: ContainerFactory = (options) => {
  const members = new Map<ClientUuid, Broadcast>()
  return Promise.resolve({
    uuid: options.uuid,
    container: {
      request: (operation, data) => {
        if (operation === 'shout') { for (const send of members.values()) send(data) }
        return Promise.resolve({ operation, data })
      },
      connect: (clientId, broadcast) => void members.set(clientId, broadcast),
      disconnect: (clientId) => void members.delete(clientId),
      terminate: () => Promise.resolve(),
    },
  })
}

const cases: [coordinator: Transport, peers: Transport][] = [
  ['zmtp', 'libzmq'],
  ['libzmq', 'zmtp'],
]

for (const [coordinatorTransport, peerTransport] of cases) {
  for (const encrypted of [false, true]) {
    const name = `a ${coordinatorTransport} coordinator serves a ${peerTransport} agent and client${
      encrypted ? ' with CURVE' : ''
    }: routed and direct requests, and events`
    Deno.test(name, async () => {
      const serverKeys = curveKeyPair()
      const agentKeys = curveKeyPair()
      const clientKeys = curveKeyPair()
      await using coordinator = await startCoordinator({
        host: '127.0.0.1',
        port: 0,
        transport: coordinatorTransport,
        ...(encrypted && {
          security: {
            secretKey: serverKeys.secretKey,
            peers: [
              { name: 'agent', publicKey: agentKeys.publicKey, role: 'agent' as const },
              { name: 'client', publicKey: clientKeys.publicKey, role: 'client' as const },
            ],
          },
        }),
      })
      const { server } = coordinator
      const socketFor = (keys: { publicKey: string; secretKey: string }) =>
        encrypted ? { curve: { serverKey: serverKeys.publicKey, ...keys } } : undefined
      await using agent = await createNetworkClient(server.endpoint, {
        transport: peerTransport,
        socket: socketFor(agentKeys),
      })
      await using client = await createNetworkClient(server.endpoint, {
        transport: peerTransport,
        socket: socketFor(clientKeys),
      })
      await within(
        10_000,
        'the agent registers',
        agent.serveAgent('127.0.0.1:0', { room }, { agentId: 'mixed-agent' }),
      )
      const ref = await within(10_000, 'get', client.get('room', { uuid: 'mixed-room' }))
      assert.deepEqual(await ref.request('echo', { n: 1 }), {
        operation: 'echo',
        data: { n: 1 },
      })
      const events: unknown[] = []
      const heard = Promise.withResolvers<void>()
      const connection = await within(
        10_000,
        'connect',
        ref.connect({
          on: (event) => {
            events.push(event)
            if (events.length === 100) heard.resolve()
          },
        }),
      )
      for (let i = 0; i < 100; i++) {
        assert.deepEqual(await connection.request('shout', i), { operation: 'shout', data: i })
      }
      await within(10_000, 'every event', heard.promise)
      assert.deepEqual(events, Array.from({ length: 100 }, (_, i) => i))
      await connection.close()
      await ref.close()
    })
  }
}
