// The seed document's quick start as written, with the imports changed to the compat
// export and a SessionContainer of our own (the document leaves it to the reader).
import assert from 'node:assert/strict'
import type { Container, ContainerEndpointRef } from '@huly/network/compat'
import { NetworkImpl, TickManagerImpl } from '@huly/network/compat'
import { NetworkServer } from '@huly/network/compat'
import { AgentImpl } from '@huly/network/compat'
import { NetworkAgentServer } from '@huly/network/compat'
import { createNetworkClient } from '@huly/network/compat'

class SessionContainer implements Container {
  events: Array<(data: unknown) => Promise<void>> = []
  constructor(readonly options: unknown) {}
  start(): Promise<ContainerEndpointRef | undefined> {
    return Promise.resolve(undefined)
  }
  async request(operation: string, data?: unknown): Promise<unknown> {
    for (const send of this.events) await send({ processed: operation })
    return { operation, data }
  }
  terminate(): Promise<void> {
    return Promise.resolve()
  }
  ping(): Promise<void> {
    return Promise.resolve()
  }
  connect(_clientId: string, broadcast: (data: unknown) => Promise<void>): void {
    this.events.push(broadcast)
  }
  disconnect(): void {}
}

Deno.test('the seed quick start runs with its imports changed', async () => {
  // Create network components
  const tickManager = new TickManagerImpl(1000) // 1000 ticks per second
  tickManager.start()
  const network = new NetworkImpl(tickManager)
  const server = new NetworkServer(network, tickManager, '*', 3737)

  const networkClient = createNetworkClient('localhost:3737')

  // Define container factory
  const containerFactory = {
    // deno-lint-ignore no-explicit-any -- the document's factory is untyped
    session: async (uuid: any, _request: any) => {
      const container = new SessionContainer(uuid)
      const endpoint = await container.start()
      return [container, endpoint] as [Container, ContainerEndpointRef]
    },
  }

  // Create and start agent
  // deno-lint-ignore no-explicit-any -- the document passes a plain string
  const agent = new AgentImpl('agent-1' as any, containerFactory)
  const agentServer = new NetworkAgentServer(tickManager, 'localhost', '*', 3738)

  await agentServer.start(agent)
  await networkClient.register(agent)

  // Connect to network
  const client = await createNetworkClient('localhost:3737')

  // Get or create a container
  // deno-lint-ignore no-explicit-any -- the document passes a plain string
  const containerRef = await client.get('user-session-1' as any, {
    kind: 'session',
    labels: { userId: 'user1' },
  })

  // Establish connection and communicate
  const connection = await containerRef.connect()
  const response = await connection.request('processData', { data: 'example' })

  // Handle events
  const received: unknown[] = []
  // deno-lint-ignore require-await -- as the document writes it
  connection.on = async (event) => {
    received.push(event)
  }

  // Cleanup
  await connection.close()
  await containerRef.release()

  assert.deepEqual(response, { operation: 'processData', data: { data: 'example' } })
  assert.deepEqual(containerRef.uuid, 'user-session-1')
  await client.close()
  await networkClient.close()
  await server.close()
  network.close()
  tickManager.stop()
})
