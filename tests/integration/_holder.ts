// deno-lint-ignore-file no-console -- a test fixture that reports on stdout
// A client process that gets a container, connects to it and holds on until
// killed. Arguments: <network endpoint> <container uuid>.
import { createNetworkClient } from '../../client/mod.ts'

const [network, uuid] = Deno.args
const client = await createNetworkClient(network, {
  timeouts: { aliveTimeoutMs: 2000, pingIntervalMs: 500 },
})
const ref = await client.get('echo', { uuid })
await ref.connect()
console.log(`holding ${uuid} as ${client.clientId} via ${ref.endpoint.kind}`)
