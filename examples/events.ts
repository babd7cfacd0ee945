// deno-lint-ignore-file no-console -- an example shows its results
/**
 * Events: a client connects to a `chat` container and receives what it pushes;
 * another client listens to the network's own change events.
 *
 *     deno run --allow-net examples/events.ts
 */
import { createNetworkClient } from '@huly/network/client'
import type { Broadcast, ClientUuid, ContainerFactory } from '@huly/network/core'
import { startCoordinator } from '@huly/network/server'

// A chat room: `say` pushes the message to every connected client.
const chat: ContainerFactory = (options) => {
  const members = new Map<ClientUuid, Broadcast>()
  return Promise.resolve({
    uuid: options.uuid,
    container: {
      request: (operation, data, from) => {
        if (operation !== 'say') return Promise.reject(new Error(`no operation ${operation}`))
        for (const send of members.values()) send({ from, text: data })
        return Promise.resolve(members.size)
      },
      connect: (clientId, broadcast) => void members.set(clientId, broadcast),
      disconnect: (clientId) => void members.delete(clientId),
    },
  })
}

await using coordinator = await startCoordinator({
  port: 0,
  timeouts: { unusedContainerTimeoutMs: 500, pingIntervalMs: 250 },
})
await using agentProcess = await createNetworkClient(coordinator.endpoint)
await agentProcess.serveAgent('127.0.0.1:0', { chat }, { agentId: 'agent-1' })

// An observer of the network: every container added, updated or removed.
await using observer = await createNetworkClient(coordinator.endpoint)
const removed = Promise.withResolvers<void>()
observer.onUpdate((event) => {
  for (const { type, container } of event.containers) {
    console.log(`network: container ${container.uuid} ${type} on ${container.agentId}`)
    if (type === 'removed') removed.resolve()
  }
})

await using alice = await createNetworkClient(coordinator.endpoint, { clientId: 'alice' })
const ref = await alice.get('chat', { uuid: 'room-1' })
const connection = await ref.connect() // straight to the agent's endpoint
const received = Promise.withResolvers<void>()
connection.on = (event) => {
  console.log(`alice received: ${JSON.stringify(event)}`)
  received.resolve()
}
console.log(`delivered to ${await connection.request('say', 'hi all')} member(s)`)
await received.promise

// Closing the last reference ends the room after the unused timeout (0.5 s here).
await connection.close()
await ref.close()
await removed.promise
