// deno-lint-ignore-file no-console -- an example shows its results
// huly.net example 2 (event broadcasting), our version on the compat API: a chat room
// container broadcasts each message to every connected member.
// Run: deno run --allow-net examples/huly-net/event_broadcasting.ts
import {
  type ContainerFactory,
  type ContainerKind,
  createNetworkClient,
} from '@huly/network/compat'
import { containerOf, startCoordinator } from './_coordinator.ts'

const room: ContainerFactory = () => {
  const members = new Map<string, (data: unknown) => Promise<void>>()
  const request = async (operation: string, data?: unknown) => {
    if (operation !== 'say') throw new Error(`no operation ${operation}`)
    await Promise.all([...members.values()].map((send) => send(data)))
    return members.size
  }
  return Promise.resolve([
    containerOf(request, (id, send) => members.set(id, send), (id) => members.delete(id)),
  ])
}

await using coordinator = await startCoordinator()
await using agents = createNetworkClient(coordinator.url)
await agents.serveAgent('127.0.0.1:0', { room })

const received: string[] = []
const clients = ['alice', 'bob'].map((name) => ({
  name,
  client: createNetworkClient(coordinator.url),
}))
const connections = []
for (const { name, client } of clients) {
  const ref = await client.get('room' as ContainerKind, { uuid: 'room-1' as never })
  const connection = await ref.connect()
  connection.on = (event) => {
    received.push(`${name} received ${JSON.stringify(event)}`)
  }
  connections.push({ ref, connection })
}
const delivered = await connections[0].connection.request('say', { from: 'alice', text: 'hi all' })
console.log(`delivered to ${delivered} member(s)`)
while (received.length < 2) await new Promise((resolve) => setTimeout(resolve, 10))
for (const line of received.sort()) console.log(line)
for (const { ref, connection } of connections) {
  await connection.close()
  await ref.close()
}
for (const { client } of clients) await client.close()
