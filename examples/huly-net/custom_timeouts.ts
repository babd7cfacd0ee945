// deno-lint-ignore-file no-console -- an example shows its results
// huly.net's custom-timeout example, our version on the compat API: timings in seconds,
// set globally through `timeouts` before the network starts, and per client through
// createNetworkClient's aliveTimeout.
// Run: deno run --allow-net examples/huly-net/custom_timeouts.ts
import {
  type ContainerKind,
  createNetworkClient,
  NetworkImpl,
  NetworkServer,
  TickManagerImpl,
  timeouts,
} from '@huly/network/compat'
import { containerOf } from './_coordinator.ts'

timeouts.aliveTimeout = 10 // seconds: a peer silent this long is dead
timeouts.unusedContainerTimeout = 1 // seconds: an unused container ends this long after release

const tickManager = new TickManagerImpl(20)
tickManager.start()
const network = new NetworkImpl(tickManager)
const server = new NetworkServer(network, tickManager, '127.0.0.1', 0)
console.log(
  `network timings: alive ${network.modern.timeouts.aliveTimeoutMs} ms, unused ${network.modern.timeouts.unusedContainerTimeoutMs} ms`,
)

const url = `127.0.0.1:${await server.getPort()}`
const client = createNetworkClient(url, 30) // this client's alive timeout: 30 s
await client.waitConnection(5000)
console.log('client connected with an alive timeout of 30 s')
await client.serveAgent('127.0.0.1:0', {
  session: () => Promise.resolve([containerOf((op) => Promise.resolve(op))]),
})
const ref = await client.get('session' as ContainerKind, {})
await ref.close()
const started = Date.now()
while ((await client.list()).length > 0) await new Promise((resolve) => setTimeout(resolve, 50))
const seconds = (Date.now() - started) / 1000
console.log(`released container ended after its unused timeout: ${seconds >= 0.5 && seconds < 5}`)

await client.close()
await server.close()
network.close()
tickManager.stop()
