// deno-lint-ignore-file no-console -- a test fixture that reports on stdout
// Many network clients in one process, sharing one clock: each gets its own echo
// container, holds the reference and answers one request, then all wait until the
// process is killed. Arguments: <network endpoint> <count> <uuid prefix>.
import { createNetworkClient, type NetworkClient } from '../../client/mod.ts'
import { TickManagerImpl } from '../../core/mod.ts'

const [network, countText, prefix] = Deno.args
const clock = new TickManagerImpl(10)
clock.start()
const clients: NetworkClient[] = []
for (let i = 0; i < Number(countText); i++) {
  clients.push(await createNetworkClient(network, { clock, timeouts: { aliveTimeoutMs: 10_000 } }))
}
await Promise.all(clients.map(async (client, i) => {
  const ref = await client.get('echo', { uuid: `${prefix}-${i}` })
  if (await ref.request('echo', i) !== i) throw new Error(`wrong answer for ${i}`)
}))
console.log(`ready ${clients.length}`)
