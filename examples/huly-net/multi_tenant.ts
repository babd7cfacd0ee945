// deno-lint-ignore-file no-console -- an example shows its results
// huly.net example 3 (multi-tenant), our version on the compat API: one workspace
// container per tenant, chosen by labels; each keeps its own data.
// Run: deno run --allow-net examples/huly-net/multi_tenant.ts
import {
  type ContainerFactory,
  type ContainerKind,
  createNetworkClient,
} from '@huly/network/compat'
import { containerOf, startCoordinator } from './_coordinator.ts'

const workspace: ContainerFactory = (options) => {
  const documents: string[] = []
  const request = (operation: string, data?: unknown) => {
    if (operation === 'add') documents.push(String(data))
    return Promise.resolve(operation === 'tenant' ? options.labels : [...documents])
  }
  return Promise.resolve([containerOf(request)])
}

await using coordinator = await startCoordinator()
await using agents = createNetworkClient(coordinator.url)
await agents.serveAgent('127.0.0.1:0', { workspace })

await using client = createNetworkClient(coordinator.url)
const kind = 'workspace' as ContainerKind
const acme = await client.get(kind, { labels: ['tenant:acme'] })
const globex = await client.get(kind, { labels: ['tenant:globex'] })
await acme.request('add', 'acme plan')
await globex.request('add', 'globex plan')
console.log(`acme sees: ${await acme.request('list')}`)
console.log(`globex sees: ${await globex.request('list')}`)
const again = await client.get(kind, { labels: ['tenant:acme'] })
console.log(`acme again is the same container: ${again.uuid === acme.uuid}`)
console.log(`workspaces: ${(await client.list(kind)).length}`)
