// deno-lint-ignore-file no-console -- a test fixture that reports on stdout
// The agent process of the rolling restart tests. Kinds: `counter` (hands its value
// over), `hang` (a terminate that never ends), `big` (hands over 2 MiB), each a
// counter that prints `activate <uuid> <ms> from <value>` when it starts and
// `deactivate <uuid> <ms>` when its terminate ends, so tests check that copies never
// overlap. SIGTERM drains it and prints `drained <DrainResult as JSON>`, then it exits 0.
// Warnings and errors of the library are printed as `log <level> <message>`.
// Arguments: <network endpoint> <agent id> <drain deadline in ms>
import { configure } from '@logtape/logtape'
import { createNetworkClient } from '../../client/mod.ts'
import type { Container, ContainerFactory } from '../../core/mod.ts'

const [network, agentId, drainDeadline = '10000'] = Deno.args
await configure({
  sinks: {
    stdout: (record) =>
      console.log(`log ${record.level} ${record.message.map((part) => String(part)).join('')}`),
  },
  loggers: [
    { category: ['huly-network'], lowestLevel: 'warning', sinks: ['stdout'] },
    { category: ['logtape', 'meta'], lowestLevel: 'error', sinks: [] },
  ],
})

type Variant = 'counter' | 'hang' | 'big'

function counter(variant: Variant): ContainerFactory {
  return (options) => {
    const handedOver = options.handedOver
    let value = typeof handedOver === 'number' ? handedOver : 0
    const uuid = options.uuid
    console.log(`activate ${uuid} ${Date.now()} from ${JSON.stringify(handedOver ?? null)}`)
    const container: Container = {
      request: async (operation, data) => {
        if (operation === 'get') return value
        if (operation === 'sleep') {
          await new Promise((resolve) => setTimeout(resolve, (data as { ms: number }).ms))
        }
        return ++value
      },
      handOver: () => Promise.resolve(variant === 'big' ? 'x'.repeat(2 * 1024 * 1024) : value),
      terminate: () => {
        if (variant === 'hang') {
          console.log(`hanging ${uuid} ${Date.now()}`)
          return new Promise(() => {})
        }
        console.log(`deactivate ${uuid} ${Date.now()}`)
        return Promise.resolve()
      },
    }
    return Promise.resolve({ uuid, container })
  }
}

const client = await createNetworkClient(network, {
  clientId: `client-of-${agentId}`,
  timeouts: { aliveTimeoutMs: 2000, pingIntervalMs: 500 },
})
const served = await client.serveAgent('127.0.0.1:0', {
  counter: counter('counter'),
  hang: counter('hang'),
  big: counter('big'),
}, { agentId })
console.log(`registered ${served.endpoint}`)

Deno.addSignalListener('SIGTERM', async () => {
  const result = await served.drain({ deadlineMs: Number(drainDeadline) })
  console.log(`drained ${JSON.stringify(result)}`)
  await client.close()
  Deno.exit(0)
})
