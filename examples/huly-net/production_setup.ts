// deno-lint-ignore-file no-console -- an example shows its results
// huly.net example 4 (complete production set-up), our version on the compat API: two
// redundant agents, event monitoring, a health check, and a graceful shutdown of one
// agent after which new work lands on the other.
// Run: deno run --allow-net examples/huly-net/production_setup.ts
import {
  type ContainerFactory,
  type ContainerKind,
  createNetworkClient,
  NetworkEventKind,
} from '@huly/network/compat'
import { containerOf, startCoordinator } from './_coordinator.ts'

const worker: ContainerFactory = (options) =>
  Promise.resolve([containerOf(() => Promise.resolve(`done by ${options.uuid}`))])

await using coordinator = await startCoordinator()
const agentA = createNetworkClient(coordinator.url)
await using agentB = createNetworkClient(coordinator.url)
await agentA.serveAgent('127.0.0.1:0', { worker })
await agentB.serveAgent('127.0.0.1:0', { worker })

await using client = createNetworkClient(coordinator.url)
let removed = 0
client.onUpdate((event) => {
  removed += event.agents.filter((agent) => agent.event === NetworkEventKind.removed).length
})
await client.waitConnection(5000)
const kind = 'worker' as ContainerKind
const refs = await Promise.all([1, 2].map((n) => client.get(kind, { labels: [`job:${n}`] })))
const hosts = new Set((await client.list(kind)).map((record) => record.agentId))
console.log(
  `health: ${
    (await client.agents()).length
  } agents, ${refs.length} workers on ${hosts.size} agents`,
)

await agentA.close() // graceful shutdown: its containers end and it unregisters
while (removed === 0) await new Promise((resolve) => setTimeout(resolve, 10))
console.log(`after shutdown: ${(await client.agents()).length} agent`)
const next = await client.get(kind, { labels: ['job:3'] })
console.log(`new work still served: ${(await next.request('run')) !== undefined}`)
