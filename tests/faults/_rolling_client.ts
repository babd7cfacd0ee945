// deno-lint-ignore-file no-console -- a test fixture that reports on stdout
// A client process of the rolling restart test: holds references to the counters
// `c-0` … `c-<n-1>` and a connection to each, and increments them without pause,
// alternately routed and over the connection (one loop per few counters, so each
// loop's answers for one counter must grow), plus gets that start new containers.
// Prints `ready`, then on SIGTERM stops, and prints `summary <JSON>` and exits 0.
// Arguments: <network endpoint> <name> <number of counters> <loops>
import { createNetworkClient } from '../../client/mod.ts'

const [network, name, count = '60', loopCount = '8'] = Deno.args
const client = await createNetworkClient(network, {
  clientId: name,
  timeouts: { aliveTimeoutMs: 2000, pingIntervalMs: 500, requestTimeoutMs: 20_000 },
})
const refs = await Promise.all(
  Array.from({ length: Number(count) }, (_, i) => client.get('counter', { uuid: `c-${i}` })),
)
const connections = await Promise.all(refs.map((ref) => ref.connect()))
const counts = refs.map(() => 0)
const last = refs.map(() => 0)
const summary = { ok: 0, failed: 0, backwards: 0, gets: 0, slowestMs: 0, errors: [] as string[] }
let running = true

async function timed(send: () => Promise<unknown>): Promise<unknown> {
  const started = performance.now()
  try {
    const answer = await send()
    summary.ok++
    return answer
  } catch (error) {
    summary.failed++
    if (summary.errors.length < 10) summary.errors.push(String(error))
    return undefined
  } finally {
    summary.slowestMs = Math.max(summary.slowestMs, performance.now() - started)
  }
}

const loops = Array.from({ length: Number(loopCount) }, async (_, loop) => {
  for (let round = 0; running; round++) {
    for (let i = loop; i < refs.length && running; i += Number(loopCount)) {
      const viaConnection = (round + i) % 2 === 1
      const answer = await timed(() =>
        viaConnection
          ? connections[i].request('increment', null)
          : refs[i].request('increment', null)
      )
      if (typeof answer !== 'number') continue
      counts[i]++
      if (answer <= last[i]) summary.backwards++
      last[i] = answer
    }
  }
})
const getting = (async () => {
  for (let k = 0; running; k++) {
    await timed(async () => {
      await using ref = await client.get('counter', { uuid: `${name}-new-${k}` })
      await ref.request('increment', null)
    })
    summary.gets++
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
})()
console.log('ready')

Deno.addSignalListener('SIGTERM', async () => {
  running = false
  await Promise.all([...loops, getting])
  console.log(`summary ${JSON.stringify({ ...summary, counts })}`)
  await client.close()
  Deno.exit(0)
})
