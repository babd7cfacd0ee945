// deno-lint-ignore-file no-console -- an example shows its results
/**
 * Observability: a coordinator with its HTTP endpoint, an agent and a client at
 * work; the example reads what an operator sees: health, Prometheus metrics and
 * the state as JSON. Open the printed dashboard URL in a browser to watch it live
 * (run with `--keep` to keep it running until Ctrl-C). Run any process with
 * `OTEL_DENO=true` to export the same metrics and the traces over OTLP.
 *
 *     deno run --allow-net examples/observability.ts
 */
import { createNetworkClient } from '@huly/network/client'
import type { ContainerFactory } from '@huly/network/core'
import type { CoordinatorState } from '@huly/network/server'
import { startCoordinator } from '@huly/network/server'

const counter: ContainerFactory = (options) => {
  let value = 0
  return Promise.resolve({
    uuid: options.uuid,
    container: { request: () => Promise.resolve(++value) },
  })
}

await using coordinator = await startCoordinator({ port: 0, http: { port: 0 } })
console.log(`dashboard: ${coordinator.httpUrl}/`)

await using agentProcess = await createNetworkClient(coordinator.endpoint)
await agentProcess.serveAgent('127.0.0.1:0', { counter }, { agentId: 'agent-1' })

await using client = await createNetworkClient(coordinator.endpoint, { clientId: 'client-1' })
await using ref = await client.get('counter', { uuid: 'visits', labels: ['site:docs'] })
for (let i = 0; i < 100; i++) await ref.request('increment')

const text = async (path: string) => await (await fetch(`${coordinator.httpUrl}${path}`)).text()
console.log(`healthz: ${(await text('/healthz')).trim()}`)
const metrics = (await text('/metrics')).split('\n')
for (
  const name of [
    'huly_network_requests_total{operation="network.request"',
    'huly_network_containers{',
  ]
) {
  for (const line of metrics.filter((line) => line.startsWith(name))) console.log(line)
}
const state = JSON.parse(await text('/api/state')) as CoordinatorState
for (const container of state.containers) {
  console.log(
    `state: ${container.uuid} (${container.kind}, ${container.state}) on ${container.agentId}, ${container.references} reference(s)`,
  )
}

if (Deno.args.includes('--keep')) {
  console.log('serving until Ctrl-C')
  await new Promise((resolve) => Deno.addSignalListener('SIGINT', () => resolve(null)))
}
