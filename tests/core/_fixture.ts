// Shared fixture of the core tests: a network on a manual clock, agents built from
// recording factories, and a log of every event.
import {
  AgentImpl,
  type AgentUuid,
  type Broadcast,
  type ClientUuid,
  type Container,
  type ContainerFactory,
  type ContainerKind,
  type ContainerUuid,
  ManualTickManager,
  type NetworkEvent,
  NetworkImpl,
  type NetworkOptions,
  type StartOptions,
} from '../../core/mod.ts'
import { directEndpoint } from '../../internal.ts'

/** Deno.test with every sanitizer on. */
export function test(name: string, fn: () => Promise<void> | void): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true, sanitizeExit: true })
}

/** A container that records what happens to it and echoes requests. */
export class TestContainer implements Container {
  terminated = 0
  readonly connected = new Map<ClientUuid, Broadcast>()

  constructor(readonly options: StartOptions, readonly agentId: AgentUuid) {}

  request(operation: string, data: unknown, clientId?: ClientUuid): Promise<unknown> {
    return Promise.resolve({
      agentId: this.agentId,
      uuid: this.options.uuid,
      operation,
      data,
      clientId,
    })
  }

  connect(clientId: ClientUuid, broadcast: Broadcast): void {
    this.connected.set(clientId, broadcast)
  }

  disconnect(clientId: ClientUuid): void {
    this.connected.delete(clientId)
  }

  terminate(): Promise<void> {
    this.terminated++
    return Promise.resolve()
  }

  ping(): void {}
}

/** A factory whose containers `make` builds, each at its start. */
export function factoryOf(make: (options: StartOptions) => Container): ContainerFactory {
  return (options) => Promise.resolve({ uuid: options.uuid, container: make(options) })
}

/** Options of a test agent. */
export interface TestAgentOptions {
  endpoint?: string
  /** The factory waits for this before it returns. */
  gate?: Promise<void>
  /** The factory throws this many times before it works. */
  failures?: number
  /** The factory gives its containers their own direct endpoint. */
  direct?: boolean
}

export const client1 = 'client-1' as ClientUuid
export const client2 = 'client-2' as ClientUuid

export function kind(name: string): ContainerKind {
  return name as ContainerKind
}

export function uuid(name: string): ContainerUuid {
  return name as ContainerUuid
}

/** A network on a manual clock with helpers to add agents and move time. */
export class Fixture {
  readonly clock = new ManualTickManager()
  readonly network: NetworkImpl
  readonly events: NetworkEvent[] = []
  /** Every container any factory started, by agent and uuid. */
  readonly started: TestContainer[] = []
  readonly agents = new Map<AgentUuid, AgentImpl>()
  /** Gates made by gate(), opened by close() before anything shuts. */
  readonly #gates: PromiseWithResolvers<void>[] = []

  constructor(options: NetworkOptions = {}) {
    this.network = new NetworkImpl(this.clock, options)
    this.network.subscribe((event) => {
      this.events.push(event)
    })
  }

  factory(agentId: AgentUuid, options: TestAgentOptions = {}): ContainerFactory {
    let failures = options.failures ?? 0
    return async (start) => {
      await options.gate
      if (failures > 0) {
        failures--
        throw new Error(`factory failure on ${agentId}`)
      }
      const container = new TestContainer(start, agentId)
      this.started.push(container)
      return {
        uuid: start.uuid,
        container,
        ...(options.direct
          ? { endpoint: directEndpoint(`tcp://127.0.0.1:4${this.started.length}`) }
          : {}),
      }
    }
  }

  /** Creates and registers an agent offering `kinds`. */
  async agent(id: string, kinds: string[], options: TestAgentOptions = {}): Promise<AgentImpl> {
    const agentId = id as AgentUuid
    const factories = Object.fromEntries(kinds.map((k) => [k, this.factory(agentId, options)]))
    const agent = new AgentImpl(agentId, factories, { endpoint: options.endpoint })
    this.agents.set(agentId, agent)
    await this.network.register(agent.registration(), agent)
    return agent
  }

  /** A gate for TestAgentOptions.gate that close() opens if the test did not. */
  gate(): PromiseWithResolvers<void> {
    const gate = Promise.withResolvers<void>()
    this.#gates.push(gate)
    return gate
  }

  /** Gets containers of kind `name` in turn, each [client, uuid] of `gets`. */
  async getAll(name: string, gets: [ClientUuid, string][]): Promise<void> {
    for (const [client, id] of gets) await this.network.get(client, kind(name), { uuid: uuid(id) })
  }

  /** Factory calls that started a container of `uuid`. */
  startsOf(uuid: ContainerUuid): TestContainer[] {
    return this.started.filter((c) => c.options.uuid === uuid)
  }

  /**
   * Moves time by `ms` in 500 ms steps, pinging `alive` ids at every step (by
   * default every agent and both test clients).
   */
  async advance(
    ms: number,
    alive: string[] = [...this.agents.keys(), client1, client2],
  ): Promise<void> {
    for (let left = ms; left > 0; left -= 500) {
      for (const id of alive) this.network.ping(id as AgentUuid)
      await this.clock.advance(Math.min(500, left))
    }
  }

  /** Every container change delivered so far, as "type uuid@agent". */
  containerChanges(): string[] {
    return this.events.flatMap((event) =>
      event.containers.map((c) => `${c.type} ${c.container.uuid}@${c.container.agentId}`)
    )
  }

  /** Every agent change delivered so far, as "type agentId". */
  agentChanges(): string[] {
    return this.events.flatMap((event) => event.agents.map((a) => `${a.type} ${a.agent.agentId}`))
  }

  async close(): Promise<void> {
    for (const gate of this.#gates) gate.resolve()
    await this.network.close()
    for (const agent of this.agents.values()) await agent.close()
    this.clock.stop()
  }

  /** Closes the fixture at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/** Waits for pending promise callbacks (event delivery, factory completion). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}
