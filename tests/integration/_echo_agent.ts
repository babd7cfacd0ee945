// deno-lint-ignore-file no-console -- a test fixture that reports on stdout
// The agent process of the integration tests: kind `echo`. Prints one line per
// lifecycle step so tests can count starts and terminations.
// Arguments: <network endpoint> <agent id> [direct|network|ha]: with `network` the
// agent binds no endpoint and its containers are reached through the coordinator;
// with `ha` it also declares the stateless container `ha-1` of kind `echo`. A fourth
// argument is the address its endpoint binds (127.0.0.1:0).
import { createNetworkClient } from '../../client/mod.ts'
import { AgentImpl, type AgentUuid, type Broadcast, type ClientUuid } from '../../core/mod.ts'
import { factoryOf, kind, TestContainer, uuid } from '../core/_fixture.ts'

const [network, agentId, mode = 'direct', listen = '127.0.0.1:0'] = Deno.args
if (Deno.env.get('HULY_TEST_DEBUG')) {
  const { configure, getConsoleSink } = await import('@logtape/logtape')
  await configure({
    sinks: { console: getConsoleSink() },
    loggers: [{ category: ['huly-network'], lowestLevel: 'debug', sinks: ['console'] }],
  })
}

const executions = new Map<number, number>()

/** The test container, answering the operations below and logging its lifecycle. */
class EchoContainer extends TestContainer {
  readonly uuid = this.options.uuid

  override request(operation: string, data: unknown): Promise<unknown> {
    switch (operation) {
      case 'echo':
        return Promise.resolve(data)
      case 'who':
        return Promise.resolve({ agentId, uuid: this.uuid })
      case 'burst': {
        const { n } = data as { n: number }
        for (const broadcast of this.connected.values()) {
          for (let i = 0; i < n; i++) broadcast({ i })
        }
        return Promise.resolve(n)
      }
      case 'emit':
        for (const broadcast of this.connected.values()) broadcast(data)
        return Promise.resolve(null)
      case 'hang':
        return new Promise(() => {})
      case 'slow': {
        // Records every execution, so tests can prove none ran twice.
        const { i, ms } = data as { i: number; ms: number }
        executions.set(i, (executions.get(i) ?? 0) + 1)
        return new Promise((resolve) => setTimeout(() => resolve(i), ms))
      }
      case 'executions':
        return Promise.resolve({
          total: [...executions.values()].reduce((a, b) => a + b, 0),
          distinct: executions.size,
        })
      case 'Calc.add': {
        const [a, b] = data as [number, number]
        return Promise.resolve(a + b)
      }
      default:
        return Promise.reject(new Error(`unknown operation ${operation}`))
    }
  }

  override connect(clientId: ClientUuid, broadcast: Broadcast): void {
    super.connect(clientId, broadcast)
    console.log(`connected ${this.uuid} ${clientId}`)
  }

  override disconnect(clientId: ClientUuid): void {
    super.disconnect(clientId)
    console.log(`disconnected ${this.uuid} ${clientId}`)
  }

  override terminate(): Promise<void> {
    console.log(`terminated ${this.uuid}`)
    return super.terminate()
  }
}

const echo = factoryOf((options) => {
  console.log(`started ${options.uuid}`)
  return new EchoContainer(options, agentId as AgentUuid)
})

const client = await createNetworkClient(network, {
  clientId: `client-of-${agentId}`,
  timeouts: { aliveTimeoutMs: 2000, pingIntervalMs: 500 },
})
if (mode === 'network') {
  await client.register(new AgentImpl(agentId as AgentUuid, { echo }))
  console.log('registered without an endpoint')
} else {
  const options = { uuid: uuid('ha-1'), kind: kind('echo'), labels: [] }
  const stateless = mode === 'ha'
    ? [{ options, container: new EchoContainer(options, agentId as AgentUuid) }]
    : []
  const served = await client.serveAgent(listen, { echo }, { agentId, stateless })
  console.log(`registered ${served.endpoint}`)
}

Deno.addSignalListener('SIGTERM', async () => {
  await client.close()
  Deno.exit(0)
})
