// The in-process entry points of @huly/network/compat: endpoint refs, helpers, clocks,
// proxies, AgentImpl and NetworkImpl with huly.net's shapes.
import assert from 'node:assert/strict'
import {
  agentDirectRef,
  AgentImpl,
  agentNoConnectRef,
  composeCID,
  containerDirectRef,
  containerOnAgentEndpointRef,
  containerUuid,
  createProxy,
  createProxyHandler,
  EndpointKind,
  FakeTickManager,
  groupByArray,
  handleProxyCall,
  type NetworkEvent,
  NetworkEventKind,
  NetworkImpl,
  parseEndpointRef,
  TickManagerImpl,
  timeouts,
} from '@huly/network/compat'
import {
  ContainerNotFoundError,
  InvalidArgumentError,
  UnknownMethodError,
} from '@huly/network/core'
import type { AgentUuid, ClientUuid, ContainerKind, ContainerUuid } from '@huly/network/core'
import { EchoContainer, echoFactory } from './_containers.ts'

const agentId = 'agent-1' as AgentUuid
const client = 'client-1' as ClientUuid
const echo = 'echo' as ContainerKind

Deno.test('endpoint refs are JSON strings with numeric kinds', () => {
  const agent = agentDirectRef('localhost', 3738, agentId)
  assert.equal(typeof agent, 'string')
  assert.deepEqual(JSON.parse(agent), {
    kind: 1,
    host: 'localhost',
    port: 3738,
    agentId,
  })
  const routed = parseEndpointRef(containerOnAgentEndpointRef(agent, 'c1' as ContainerUuid))
  assert.equal(routed.kind, EndpointKind.routed)
  assert.equal(routed.uuid, 'c1')
  assert.equal(routed.port, 3738)
})

Deno.test('a container on an agent without an endpoint stays noconnect', () => {
  const ref = containerOnAgentEndpointRef(agentNoConnectRef(agentId), 'c1' as ContainerUuid)
  assert.equal(parseEndpointRef(ref).kind, EndpointKind.noconnect)
})

Deno.test('a direct container ref names its host, port, uuid and agent', () => {
  const data = parseEndpointRef(containerDirectRef('h', 4000, 'c' as ContainerUuid, agentId))
  assert.deepEqual(data, { kind: EndpointKind.direct, host: 'h', port: 4000, uuid: 'c', agentId })
})

Deno.test('parseEndpointRef rejects what is not a reference', () => {
  assert.throws(() => parseEndpointRef('not json' as never), InvalidArgumentError)
  assert.throws(() => parseEndpointRef('{"kind":7}' as never), InvalidArgumentError)
})

Deno.test('helpers: containerUuid is unique, composeCID joins, groupByArray keeps order', () => {
  assert.notEqual(containerUuid(), containerUuid())
  assert.equal(composeCID('session', 'u1'), 'session_u1')
  const groups = groupByArray(['a1', 'b1', 'a2'], (s) => s[0])
  assert.deepEqual([...groups], [['a', ['a1', 'a2']], ['b', ['b1']]])
})

Deno.test('timeouts are mutable seconds with huly.net defaults', () => {
  assert.deepEqual({ ...timeouts }, { aliveTimeout: 3, unusedContainerTimeout: 5, pingInterval: 1 })
  const saved = timeouts.aliveTimeout
  timeouts.aliveTimeout = 10
  assert.equal(timeouts.aliveTimeout, 10)
  timeouts.aliveTimeout = saved
})

Deno.test('TickManagerImpl has tps and rejects more than 1000 ticks per second', () => {
  assert.equal(new TickManagerImpl(20).tps, 20)
  assert.throws(() => new TickManagerImpl(2000), InvalidArgumentError)
})

Deno.test('TickManagerImpl counts ticks: a handler runs once every tps * interval ticks', async () => {
  const tick = new TickManagerImpl(4)
  const runs: number[] = []
  tick.register(() => void runs.push(tick._tick), 1)
  const unregister = tick.register(() => void runs.push(-tick._tick), 2)
  assert.equal(tick.handlers.size, 2)
  for (let i = 0; i < 8; i++) await tick.tick()
  await new Promise((resolve) => setTimeout(resolve, 0))
  // Handler 0 runs at ticks 4 and 8 (hash 0); handler 1 at tick 1 of every 8 (hash 1).
  assert.deepEqual(runs.sort((a, b) => a - b), [-1, 4, 8])
  assert.equal(tick.isMe(0, 1), true)
  unregister()
  assert.equal(tick.handlers.size, 1)
})

Deno.test('TickManagerImpl: waitTick resolves after ticks, and at stop; schedule runs once', async () => {
  const tick = new TickManagerImpl(100)
  await assert.rejects(tick.waitTick(0), InvalidArgumentError)
  await tick.waitTick(3) // not started: at once
  tick.start()
  const before = tick._tick
  await tick.waitTick(3)
  assert.ok(tick._tick >= before + 3)
  const { promise: ran, resolve } = Promise.withResolvers<void>()
  tick.schedule(resolve, 5)
  await ran
  const waiting = tick.waitTick(1_000)
  tick.stop()
  await waiting
  assert.equal(tick.started, false)
})

Deno.test('FakeTickManager moves only by setTime and runs every handler on execAll', async () => {
  const tick = new FakeTickManager()
  let runs = 0
  const stop = tick.register(() => {
    runs++
    return Promise.resolve()
  }, 5)
  assert.equal(tick.now(), 0)
  tick.setTime(12_000)
  assert.equal(tick.now(), 12_000)
  await tick.execAll()
  await tick.execAll()
  assert.equal(runs, 2)
  stop()
  await tick.execAll()
  assert.equal(runs, 2)
})

Deno.test('createProxyHandler accepts the method with and without the interface prefix', async () => {
  const request = createProxyHandler({ add: (a: number, b: number) => a + b }, 'Calc')
  assert.equal(await request('Calc.add', [1, 2]), 3)
  assert.equal(await request('add', [3, 4]), 7)
  await assert.rejects(request('Calc.sub', [1, 1]), UnknownMethodError)
})

Deno.test('handleProxyCall takes (impl, method, params, iface)', async () => {
  const impl = { hello: (name: string) => `hello ${name}` }
  assert.equal(await handleProxyCall(impl, 'Greeter.hello', ['ann'], 'Greeter'), 'hello ann')
  assert.equal(await handleProxyCall(impl, 'hello', ['bob']), 'hello bob')
})

Deno.test('createProxy sends Interface.method with the arguments as an array', async () => {
  const sent: unknown[] = []
  const calc = createProxy<{ add(a: number, b: number): Promise<number> }>({
    request: (method, params) => {
      sent.push([method, params])
      return Promise.resolve(0)
    },
  }, 'Calc')
  await calc.add(1, 2)
  assert.deepEqual(sent, [['Calc.add', [1, 2]]])
})

Deno.test('AgentImpl: kinds is a property and get returns [uuid, endpoint]', async () => {
  const agent = new AgentImpl(agentId, { echo: echoFactory() })
  assert.deepEqual(agent.kinds, ['echo'])
  const [uuid, endpoint] = await agent.get(echo, {})
  assert.equal(typeof endpoint, 'string')
  assert.equal(parseEndpointRef(endpoint).uuid, uuid)
  assert.deepEqual(await agent.get(echo, {}), [uuid, endpoint], 'a kind-only get reuses')
  assert.equal(await agent.request(uuid, 'whoami'), uuid)
  assert.equal((await agent.list(echo)).length, 1)
  assert.ok((await agent.getContainer(uuid)) instanceof EchoContainer)
})

Deno.test('AgentImpl: get with a uuid starts that container once', async () => {
  const made: EchoContainer[] = []
  const agent = new AgentImpl(agentId, { echo: echoFactory(made) })
  const fixed = 'fixed-1' as ContainerUuid
  const [a] = await agent.get(echo, { uuid: fixed })
  const [b] = await agent.get(echo, { uuid: fixed })
  assert.equal(a, fixed)
  assert.equal(b, fixed)
  assert.equal(made.length, 1)
})

Deno.test('AgentImpl: a factory may return [container, endpoint]', async () => {
  const agent = new AgentImpl(agentId, {
    echo: (options) => Promise.resolve([new EchoContainer(options.uuid!)]),
  })
  const [uuid] = await agent.get(echo, {})
  assert.equal(await agent.request(uuid, 'whoami'), uuid)
})

Deno.test('AgentImpl: terminate ends the container', async () => {
  const made: EchoContainer[] = []
  const agent = new AgentImpl(agentId, { echo: echoFactory(made) })
  const [uuid] = await agent.get(echo, {})
  await agent.terminate(uuid)
  assert.ok(made[0].terminated)
  assert.deepEqual(await agent.list(), [])
})

Deno.test('AgentImpl: stateless containers are listed, then forgotten when removed', async () => {
  const agent = new AgentImpl(agentId, {})
  const uuid = 'stateless-1' as ContainerUuid
  const container = new EchoContainer(uuid)
  agent.addStatelessContainer(
    uuid,
    echo,
    containerOnAgentEndpointRef(agentNoConnectRef(agentId), uuid),
    container,
  )
  assert.deepEqual((await agent.list()).map((r) => r.uuid), [uuid])
  assert.equal(await agent.getContainer(uuid), container)
  agent.removeStatelessContainer(uuid)
  assert.deepEqual(await agent.list(), [])
})

Deno.test('NetworkImpl: get returns [uuid, endpoint] and request reaches the container', async () => {
  const network = new NetworkImpl(new FakeTickManager())
  await new AgentImpl(agentId, { echo: echoFactory() }).register(network)
  const [uuid, endpoint] = await network.get(client, echo, {})
  assert.equal(parseEndpointRef(endpoint).agentId, agentId)
  assert.equal(await network.request(uuid, 'echo', 5), 5)
  assert.deepEqual(await network.kinds(), ['echo'])
  const [info] = await network.agents()
  assert.deepEqual([info.agentId, info.kinds, info.containers], [agentId, ['echo'], 1])
  assert.equal((await network.list(echo))[0].uuid, uuid)
  network.close()
})

Deno.test('NetworkImpl: events have huly.net shape and numeric kinds', async () => {
  const tick = new FakeTickManager()
  const network = new NetworkImpl(tick)
  const events: NetworkEvent[] = []
  network.addClient(client, (event) => {
    events.push(event)
    return Promise.resolve()
  })
  await new AgentImpl(agentId, { echo: echoFactory() }).register(network)
  await network.sendEvents()
  assert.equal(events.length, 1, 'sendEvents delivered the registration')
  const [uuid] = await network.get(client, echo, {})
  await tick.execAll()
  await new Promise((resolve) => setTimeout(resolve, 10))
  const agents = events.flatMap((e) => e.agents)
  const containers = events.flatMap((e) => e.containers)
  assert.ok(agents.some((a) => a.id === agentId && a.event === NetworkEventKind.added))
  assert.ok(containers.some((c) => c.container.uuid === uuid && c.event === NetworkEventKind.added))
  assert.equal(typeof containers[0].container.endpoint, 'string')
  network.removeClient(client)
  network.close()
})

Deno.test('NetworkImpl: a released container is terminated after unusedContainerTimeout', async () => {
  const tick = new FakeTickManager()
  const network = new NetworkImpl(tick)
  const made: EchoContainer[] = []
  await new AgentImpl(agentId, { echo: echoFactory(made) }).register(network)
  const [uuid] = await network.get(client, echo, {})
  await network.release(client, uuid)
  tick.setTime((timeouts.unusedContainerTimeout + 1) * 1000)
  network.ping(agentId)
  await tick.execAll()
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.deepEqual(await network.list(), [])
  assert.ok(made[0].terminated)
  network.close()
})

Deno.test('NetworkImpl: a silent agent is removed after aliveTimeout', async () => {
  const tick = new FakeTickManager()
  const network = new NetworkImpl(tick)
  await new AgentImpl(agentId, {}).register(network)
  tick.setTime(1000 + timeouts.aliveTimeout * 1000)
  await tick.execAll()
  assert.deepEqual(await network.agents(), [])
  network.close()
})

Deno.test('NetworkImpl: the first agent declaring a stateless uuid serves it, the next stands by', async () => {
  const network = new NetworkImpl(new FakeTickManager())
  const uuid = 'ha-1' as ContainerUuid
  const first = new AgentImpl('agent-a' as AgentUuid, {})
  const second = new AgentImpl('agent-b' as AgentUuid, {})
  for (const agent of [first, second]) {
    agent.addStatelessContainer(
      uuid,
      echo,
      containerOnAgentEndpointRef(agentNoConnectRef(agent.uuid), uuid),
      new EchoContainer(uuid),
    )
  }
  await first.register(network)
  assert.deepEqual(
    await network.register(
      { agentId: second.uuid, containers: await second.list(), kinds: [] },
      second,
    ),
    [uuid],
  )
  assert.equal((await network.list())[0].agentId, 'agent-a')
  network.close()
})

Deno.test("NetworkImpl: an agent with only huly.net's interface can register", async () => {
  const network = new NetworkImpl(new FakeTickManager())
  const containers = new Map<ContainerUuid, EchoContainer>()
  const plain = {
    uuid: 'plain' as AgentUuid,
    kinds: [echo],
    get: (_kind: ContainerKind, options: { uuid?: ContainerUuid }) => {
      const uuid = options.uuid ?? containerUuid()
      containers.set(uuid, new EchoContainer(uuid))
      return Promise.resolve(
        [uuid, containerOnAgentEndpointRef(agentNoConnectRef('plain' as AgentUuid), uuid)] as [
          ContainerUuid,
          never,
        ],
      )
    },
    getContainer: (uuid: ContainerUuid) => Promise.resolve(containers.get(uuid)),
    list: () => Promise.resolve([]),
    request: (target: ContainerUuid, operation: string, data?: unknown) =>
      containers.get(target)!.request(operation, data),
    terminate: (uuid: ContainerUuid) => Promise.resolve(void containers.delete(uuid)),
  }
  await network.register({ agentId: plain.uuid, containers: [], kinds: [echo] }, plain)
  const [uuid] = await network.get(client, echo, {})
  assert.equal(await network.request(uuid, 'whoami'), uuid)
  network.close()
})

Deno.test('AgentImpl and NetworkImpl return the endpoint string a factory gave, as given', async () => {
  const network = new NetworkImpl(new FakeTickManager())
  const agent = new AgentImpl(agentId, {
    echo: (options) =>
      Promise.resolve({
        uuid: options.uuid!,
        container: new EchoContainer(options.uuid!),
        endpoint: 'endpoint-1' as never,
      }),
  })
  await agent.register(network)
  const [uuid, endpoint] = await network.get(client, echo, {})
  assert.equal(endpoint, 'endpoint-1')
  assert.deepEqual(await agent.get(echo, { uuid }), [uuid, 'endpoint-1'])
  assert.equal((await agent.list())[0].endpoint, 'endpoint-1')
  network.close()
})

Deno.test("TickManagerImpl refuses huly.net's invalid values with its messages", async () => {
  assert.throws(() => new TickManagerImpl(0), /Ticks per second has an invalid value/)
  const tick = new TickManagerImpl(10)
  assert.throws(
    () => tick.register(() => Promise.resolve(), 0.5),
    /Interval must be a finite number >= 1/,
  )
  await assert.rejects(tick.waitTick(0), /Ticks must be >= 1/)
})

Deno.test('NetworkImpl.request of an unknown container names it as huly.net does', async () => {
  const network = new NetworkImpl(new FakeTickManager())
  await assert.rejects(
    network.request('nope' as ContainerUuid, 'x'),
    (error) =>
      error instanceof ContainerNotFoundError && error.message === 'Container nope not found',
  )
  network.close()
})
