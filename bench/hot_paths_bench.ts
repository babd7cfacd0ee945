// Micro benchmarks of the hot paths: the message header codec, one request through
// two rpc sessions, and the coordinator's lookup of a container's route among 10k.
import {
  AgentImpl,
  type AgentUuid,
  type ClientUuid,
  type ContainerKind,
  type ContainerUuid,
  ManualTickManager,
  NetworkImpl,
  TickManagerImpl,
} from '../core/mod.ts'
import { RpcSession } from '../rpc/session.ts'
import { frames, Kind, parseMessage } from '../rpc/_frames.ts'
import { decode, encode } from '../rpc/codec.ts'

const payload = { hello: 'world', index: 1, tags: ['a', 'b'], nested: { x: 1.5 } }
const body = encode(payload)
const requestHeader = {
  kind: Kind.request,
  id: 12345,
  operation: 'network.request',
  timeoutMs: 30_000,
  meta: { target: 'container-1', operation: 'echo' },
} as const
const request = frames(requestHeader, body)

Deno.bench('header: encode a request message', { group: 'codec' }, () => {
  frames(requestHeader, body)
})

Deno.bench('header: parse a request message', { group: 'codec', baseline: true }, () => {
  parseMessage(request)
})

Deno.bench('body: encode + decode the load benchmark payload', { group: 'codec' }, () => {
  decode(encode(payload))
})

const clock = new ManualTickManager()
const network = new NetworkImpl(clock)
const agent = new AgentImpl('agent-1' as AgentUuid, {
  echo: (options) =>
    Promise.resolve({
      uuid: options.uuid,
      container: {
        request: (_operation, data) => Promise.resolve(data),
        connect: () => {},
        disconnect: () => {},
        terminate: () => Promise.resolve(),
        ping: () => {},
      },
    }),
})
await network.register(agent.registration(), agent)
for (let i = 0; i < 10_000; i++) {
  await network.get('bench' as ClientUuid, 'echo' as ContainerKind, {
    uuid: `c-${i}` as ContainerUuid,
  })
}
let next = 0

Deno.bench('registry: route a request among 10k containers', { group: 'registry' }, () => {
  network.route(`c-${next++ % 10_000}` as ContainerUuid)
})

Deno.bench(
  'registry: get (reuse) by uuid among 10k containers',
  { group: 'registry' },
  async () => {
    await network.get('bench' as ClientUuid, 'echo' as ContainerKind, {
      uuid: `c-${next++ % 10_000}` as ContainerUuid,
    })
  },
)

// Two sessions wired back to back in memory, on a real clock: the per-request
// bookkeeping (ids, deadlines, the served request, the replay cache) without sockets.
const realClock = new TickManagerImpl(10)
const server = new RpcSession(realClock, (incoming) => Promise.resolve(incoming.body))
const caller = new RpcSession(
  realClock,
  () => Promise.reject(new Error('the caller serves nothing')),
)
caller.attach((message) => {
  const { header, body } = parseMessage(message)
  server.receive(header, body)
})
server.attach((message) => {
  const { header, body } = parseMessage(message)
  caller.receive(header, body)
})

Deno.bench('session: request, serve and reply through two sessions in memory', {
  group: 'session',
}, async () => {
  await caller.request('echo', body)
})

Deno.bench('session: 64 requests in flight through two sessions in memory', {
  group: 'session',
  n: 2000,
}, async () => {
  await Promise.all(Array.from({ length: 64 }, () => caller.request('echo', body)))
})
