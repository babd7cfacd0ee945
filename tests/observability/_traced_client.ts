// deno-lint-ignore-file no-console -- a test fixture that reports on stdout
// A client process for the OTLP test: gets the echo container `traced`, sends one
// routed request through the coordinator, prints "answered", and leaves.
import { createNetworkClient } from '../../client/mod.ts'

const [network] = Deno.args
const client = await createNetworkClient(network, { clientId: 'traced-client' })
const ref = await client.get('echo', { uuid: 'traced' })
console.log(`answered ${JSON.stringify(await ref.request('echo', { hello: 'otlp' }))}`)
await client.close()
