// deno-lint-ignore-file no-console -- an example shows its results
/**
 * Labels for multi-tenant placement: each tenant gets its own `workspace`
 * container, found by its label; new containers go round-robin over the agents.
 *
 *     deno run --allow-net examples/labels.ts
 */
import { createNetworkClient } from '@huly/network/client'
import type { ContainerFactory } from '@huly/network/core'
import { startCoordinator } from '@huly/network/server'

const workspace: ContainerFactory = (options) =>
  Promise.resolve({
    uuid: options.uuid,
    container: {
      request: () => Promise.resolve({ labels: options.labels, extra: options.extra }),
    },
  })

await using coordinator = await startCoordinator({ port: 0 })
await using agent1 = await createNetworkClient(coordinator.endpoint)
await agent1.serveAgent('127.0.0.1:0', { workspace }, { agentId: 'agent-1' })
await using agent2 = await createNetworkClient(coordinator.endpoint)
await agent2.serveAgent('127.0.0.1:0', { workspace }, { agentId: 'agent-2' })

await using client = await createNetworkClient(coordinator.endpoint)
const acme = await client.get('workspace', {
  labels: ['tenant:acme', 'plan:pro'],
  extra: { region: 'eu' },
})
const globex = await client.get('workspace', { labels: ['tenant:globex'] })
console.log(`tenant:acme   -> ${acme.uuid} on ${acme.record.agentId}`)
console.log(`tenant:globex -> ${globex.uuid} on ${globex.record.agentId}`)

// Another client asking for acme, by one of its labels, gets the same container.
await using other = await createNetworkClient(coordinator.endpoint)
const acmeAgain = await other.get('workspace', { labels: ['tenant:acme'] })
console.log(
  `tenant:acme again -> ${acmeAgain.uuid} (same container: ${acmeAgain.uuid === acme.uuid})`,
)
console.log(`acme was started with ${JSON.stringify(await acmeAgain.request('describe'))}`)
console.log(`live workspaces: ${(await client.list('workspace')).length}`)
