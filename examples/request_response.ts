// deno-lint-ignore-file no-console -- an example shows its results
/**
 * Request/response: an agent hosts `greeter` containers; a client gets one by uuid,
 * asks it, and sees a remote error as a `RemoteError`.
 *
 *     deno run --allow-net examples/request_response.ts
 */
import { createNetworkClient } from '@huly/network/client'
import { type ContainerFactory, RemoteError } from '@huly/network/core'
import { startCoordinator } from '@huly/network/server'

const greeter: ContainerFactory = (options) =>
  Promise.resolve({
    uuid: options.uuid,
    container: {
      request: (operation, data) => {
        if (operation !== 'greet') return Promise.reject(new Error(`no operation ${operation}`))
        return Promise.resolve(`hello, ${(data as { name: string }).name}`)
      },
    },
  })

await using coordinator = await startCoordinator({ port: 0 })

// The agent: in real life its own process, often on another machine.
await using agentProcess = await createNetworkClient(coordinator.endpoint)
await agentProcess.serveAgent('127.0.0.1:0', { greeter }, { agentId: 'agent-1' })

// The client.
await using client = await createNetworkClient(coordinator.endpoint)
await using ref = await client.get('greeter', { uuid: 'greeter-1' })
console.log(`got ${ref.uuid} (kind ${ref.kind}) on ${ref.record.agentId}`)
console.log(`answer: ${await ref.request('greet', { name: 'Ada' })}`)
console.log(`by uuid: ${await client.request('greeter-1', 'greet', { name: 'Grace' })}`)
try {
  await ref.request('shout', null)
} catch (error) {
  if (!(error instanceof RemoteError)) throw error
  console.log(`remote error: ${error.remoteName}: ${error.message}`)
}
