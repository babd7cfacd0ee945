// deno-lint-ignore-file no-console -- an example shows its results
// huly.net's HA stateless example, our version on the compat API: two agents declare the
// same stateless container; the first serves it, the second stands by and takes over
// when the first goes away.
// Run: deno run --allow-net examples/huly-net/ha_stateless.ts
import {
  type ContainerEndpointRef,
  type ContainerKind,
  containerOnAgentEndpointRef,
  type ContainerUuid,
  createNetworkClient,
  NetworkEventKind,
} from '@huly/network/compat'
import { containerOf, startCoordinator } from './_coordinator.ts'

const uuid = 'query-service' as ContainerUuid
const kind = 'query' as ContainerKind

/** The stateless containers of one agent: the shared uuid, answered with the agent's name. */
const statelessOf = (name: string) => (agentEndpoint: string) => [{
  uuid,
  kind,
  endpoint: containerOnAgentEndpointRef(agentEndpoint as never, uuid) as ContainerEndpointRef,
  container: containerOf(() => Promise.resolve(`answered by ${name}`)),
}]

await using coordinator = await startCoordinator()
const primary = createNetworkClient(coordinator.url)
await using standby = createNetworkClient(coordinator.url)
await primary.serveAgent('127.0.0.1:0', {}, statelessOf('primary'))
await standby.serveAgent('127.0.0.1:0', {}, statelessOf('standby'))

await using client = createNetworkClient(coordinator.url)
console.log(await client.request(uuid, 'who'))
let moved = false
client.onUpdate((event) => {
  moved ||= event.containers.some((c) =>
    c.container.uuid === uuid && c.event !== NetworkEventKind.removed
  )
})
await client.waitConnection(5000)
await primary.close()
while (!moved) await new Promise((resolve) => setTimeout(resolve, 20))
console.log(await client.request(uuid, 'who'))
