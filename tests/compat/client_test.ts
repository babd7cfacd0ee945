// The networked entry points of @huly/network/compat: NetworkServer, createNetworkClient,
// NetworkAgentServer, serveAgent, references and connections, over real sockets on loopback.
import assert from 'node:assert/strict'
import {
  AgentImpl,
  type ContainerConnection,
  ContainerConnectionImpl,
  type ContainerEndpointRef,
  type ContainerKind,
  type ContainerUuid,
  createNetworkClient,
  createProxyHandler,
  EndpointKind,
  NetworkAgentServer,
  type NetworkEvent,
  NetworkEventKind,
  NetworkImpl,
  NetworkServer,
  parseEndpointRef,
  TickManagerImpl,
} from '@huly/network/compat'
import { type AgentUuid, TimeoutError } from '@huly/network/core'
import { EchoContainer, echoFactory } from './_containers.ts'

const echo = 'echo' as ContainerKind

/** A coordinator on a free port; `using` closes it. */
async function coordinator(port = 0) {
  const tick = new TickManagerImpl(20)
  tick.start()
  const network = new NetworkImpl(tick)
  const server = new NetworkServer(network, tick, '127.0.0.1', port)
  const url = `127.0.0.1:${await server.getPort()}`
  return {
    url,
    server,
    async [Symbol.asyncDispose]() {
      await server.close()
      network.close()
      tick.stop()
    },
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 })
  const { port } = listener.addr as Deno.NetAddr
  listener.close()
  return port
}

function until(check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const poll = () => {
      if (check()) resolve()
      else if (Date.now() - started > 5000) reject(new Error(`timed out waiting for ${what}`))
      else setTimeout(poll, 10)
    }
    poll()
  })
}

Deno.test('createNetworkClient is synchronous and its calls wait for the coordinator', async () => {
  const port = freePort()
  await using client = createNetworkClient(`127.0.0.1:${port}`)
  const kinds = client.kinds()
  await new Promise((resolve) => setTimeout(resolve, 200))
  await using _net = await coordinator(port)
  assert.deepEqual(await kinds, [])
})

Deno.test('client.get waits until an agent of the kind appears', async () => {
  await using net = await coordinator()
  await using client = createNetworkClient(net.url)
  await using agents = createNetworkClient(net.url)
  const pending = client.get(echo, {})
  await new Promise((resolve) => setTimeout(resolve, 300))
  await agents.serveAgent('127.0.0.1:0', { echo: echoFactory() })
  const ref = await pending
  assert.equal(await ref.request('whoami'), ref.uuid)
  await ref.close()
})

Deno.test('serveAgent serves factories and stateless containers from its factory', async () => {
  await using net = await coordinator()
  await using agents = createNetworkClient(net.url)
  const uuid = 'stateless-1' as ContainerUuid
  let seen: string | undefined
  await agents.serveAgent('127.0.0.1:0', { echo: echoFactory() }, (agentEndpoint) => {
    seen = agentEndpoint
    return [{
      uuid,
      kind: echo,
      endpoint: '' as ContainerEndpointRef,
      container: new EchoContainer(uuid),
    }]
  })
  assert.equal(typeof seen, 'string')
  await using client = createNetworkClient(net.url)
  assert.equal(await client.request(uuid, 'whoami'), uuid)
  const [info] = await client.agents()
  assert.deepEqual(info.kinds, ['echo'])
  assert.equal(typeof info.endpoint, 'string')
  assert.deepEqual(await client.kinds(), ['echo'])
  assert.ok((await client.list(echo)).some((record) => record.uuid === uuid))
})

Deno.test('NetworkAgentServer.start + client.register serve an agent; refs connect to it', async () => {
  await using net = await coordinator()
  const tick = new TickManagerImpl(20)
  await using agentClient = createNetworkClient(net.url)
  const agent = new AgentImpl('agent-x' as AgentUuid, { echo: echoFactory() })
  const agentServer = new NetworkAgentServer(tick, '127.0.0.1', '127.0.0.1', 'random')
  await agentServer.start(agent)
  await agentClient.register(agent)
  const port = await agentServer.getPort()
  assert.ok(port > 0)
  assert.equal(parseEndpointRef(agent.endpoint!).port, port)

  await using client = createNetworkClient(net.url)
  const ref = await client.get(echo, {})
  const endpoint = parseEndpointRef(ref.endpoint)
  assert.equal(endpoint.kind, EndpointKind.routed)
  assert.equal(endpoint.port, port)
  const connection = await ref.connect()
  const events: unknown[] = []
  connection.on = (event) => {
    events.push(event)
  }
  assert.equal(await connection.request('whoami'), ref.uuid)
  await connection.request('broadcast', { hello: 1 })
  await until(() => events.length === 1, 'the event')
  assert.deepEqual(events, [{ hello: 1 }])
  await connection.close()
  await ref.release()
  await agentServer.close()
})

Deno.test('onUpdate delivers huly.net events; unsubscribing stops them', async () => {
  await using net = await coordinator()
  await using client = createNetworkClient(net.url)
  const events: NetworkEvent[] = []
  const stop = client.onUpdate((event) => {
    events.push(event)
  })
  await client.waitConnection(5000)
  await using agents = createNetworkClient(net.url)
  await agents.serveAgent('127.0.0.1:0', { echo: echoFactory() })
  await until(
    () => events.some((e) => e.agents.some((a) => a.event === NetworkEventKind.added)),
    'an agent added event',
  )
  stop()
})

Deno.test('a reference casts to a typed proxy served by createProxyHandler', async () => {
  await using net = await coordinator()
  await using agents = createNetworkClient(net.url)
  await agents.serveAgent('127.0.0.1:0', {
    calc: (options) => {
      const container = new EchoContainer(options.uuid!)
      container.request = createProxyHandler({ add: (a: number, b: number) => a + b }, 'Calc')
      return Promise.resolve([container])
    },
  })
  await using client = createNetworkClient(net.url)
  const ref = await client.get('calc' as ContainerKind, {})
  const calc = ref.cast<{ add(a: number, b: number): Promise<number> }>('Calc')
  assert.equal(await calc.add(2, 3), 5)
  assert.equal(await ref.request('add', [1, 1]), 2)
})

Deno.test('the client is disposable with using and await using', async () => {
  await using net = await coordinator()
  {
    await using client = createNetworkClient(net.url)
    await client.waitConnection(5000)
  }
  const client = createNetworkClient(net.url)
  client[Symbol.dispose]()
  await client.close()
})

Deno.test('labels select the container carrying them', async () => {
  await using net = await coordinator()
  await using agents = createNetworkClient(net.url)
  await agents.serveAgent('127.0.0.1:0', { echo: echoFactory() })
  await using client = createNetworkClient(net.url)
  const a = await client.get(echo, { labels: ['tenant:a'] })
  const b = await client.get(echo, { labels: ['tenant:b'] })
  const a2 = await client.get(echo, { labels: ['tenant:a'] })
  assert.notEqual(a.uuid, b.uuid)
  assert.equal(a2.uuid, a.uuid)
})

Deno.test('serveAgent keeps its servers in `servers`; one endpoint serves one agent', async () => {
  await using net = await coordinator()
  const agents = createNetworkClient(net.url)
  await agents.serveAgent('127.0.0.1:0', { echo: echoFactory() })
  await assert.rejects(
    agents.serveAgent('127.0.0.1:0', { echo: echoFactory() }),
    (error) =>
      error instanceof Error && error.message === 'Agent server already running at 127.0.0.1:0',
  )
  assert.equal(agents.servers.length, 1)
  await agents.close()
  assert.equal(agents.servers.length, 1, 'closed, not forgotten')
})

Deno.test("waitConnection(ms) with no coordinator fails as huly.net's 'Connection timeout'", async () => {
  await using client = createNetworkClient(`127.0.0.1:${freePort()}`)
  await assert.rejects(
    client.waitConnection(100),
    (error) => error instanceof TimeoutError && error.message === 'Connection timeout',
  )
})

Deno.test('ContainerConnectionImpl waits for its connection, replaces it and forwards events', async () => {
  const closed: string[] = []
  const fake = (name: string): ContainerConnection => ({
    containerId: 'c1' as ContainerUuid,
    request: (operation: string) => Promise.resolve(`${name}:${operation}`),
    cast: () => ({}) as never,
    close: () => Promise.resolve(void closed.push(name)),
  })
  const first = fake('first')
  const holder = new ContainerConnectionImpl('c1' as ContainerUuid, Promise.resolve(first))
  await holder.connect()
  assert.equal(await holder.request('op'), 'first:op')
  const events: unknown[] = []
  holder.on = (event) => void events.push(event)
  await first.on?.('hello')
  let updates = 0
  holder.onEndpointUpdate = () => void updates++
  holder.setConnection(fake('second'))
  assert.equal(await holder.request('op'), 'second:op')
  await new Promise((resolve) => setTimeout(resolve, 0))
  assert.deepEqual(closed, ['first'])
  await holder.close()
  assert.deepEqual(closed, ['first', 'second'])
  assert.deepEqual(events, ['hello'])
  assert.equal(updates, 1)
})

Deno.test('references holds one reference per uuid: a get of a uuid held returns it, a close forgets it', async () => {
  await using net = await coordinator()
  await using agents = createNetworkClient(net.url)
  await agents.serveAgent('127.0.0.1:0', { echo: echoFactory() })
  await using client = createNetworkClient(net.url)
  const uuid = 'held-1' as ContainerUuid
  const first = await client.get(echo, { uuid })
  assert.equal(client.references.get(uuid)?.ref, first)
  assert.equal(client.references.get(uuid)?.kind, echo)
  assert.equal(await client.get(echo, { uuid }), first)
  const other = await client.get(echo, { uuid: 'held-2' as ContainerUuid })
  assert.notEqual(other, first)
  assert.equal(client.references.size, 2)
  await first.close()
  assert.equal(client.references.has(uuid), false)
  const again = await client.get(echo, { uuid })
  assert.notEqual(again, first)
  assert.equal(await again.request('whoami'), uuid)
  await again.close()
  await other.close()
  assert.equal(client.references.size, 0)
})

Deno.test('containerListeners holds the onUpdate listeners; one that throws does not stop the others', async () => {
  await using net = await coordinator()
  await using client = createNetworkClient(net.url)
  const seen: NetworkEvent[] = []
  const stopThrowing = client.onUpdate(() => {
    throw new Error('a listener that fails')
  })
  const stop = client.onUpdate((event) => void seen.push(event))
  assert.equal(client.containerListeners.size, 2)
  await using agents = createNetworkClient(net.url)
  await agents.serveAgent('127.0.0.1:0', { echo: echoFactory() })
  await until(() => seen.some((event) => event.agents.length > 0), 'the agent event')
  stopThrowing()
  stop()
  assert.equal(client.containerListeners.size, 0)
})
