// deno-lint-ignore-file no-console -- a benchmark that reports on stdout and stderr
/**
 * The scale benchmark (issue #6): one coordinator, 10 agents, and the coordinator
 * grown to 1k, 10k and 100k containers (each held by one reference of a loader
 * client in this process). At each size 1k more clients (4 processes of 250 that
 * share a clock) connect and take 10 references each; then it measures:
 * - coordinator memory per container (with its one reference) and per extra
 *   reference: RSS, and the V8 heap in use after garbage collection (RSS also
 *   holds garbage not yet collected and heap the engine keeps for later);
 * - `get` latency (200 sequential gets of new uuids, while the 1k clients listen);
 * - event fan-out: from a get that adds a container until all 1k clients saw it.
 * The clients leave before the next growth, so growing does not fan out 100k
 * events to each of them. RSS deltas include garbage not yet collected: they are
 * upper bounds. stdout gets a table and one JSON object; progress goes to stderr.
 *
 * Run: `deno task bench:scale` (about 2 minutes).
 *
 * @module
 */
import { createNetworkClient, type NetworkClient } from '../client/mod.ts'
import type { ContainerReference } from '../client/mod.ts'
import { TickManagerImpl } from '../core/mod.ts'
import { Child, coordinatorHeap, percentile, runFlags, startCoordinatorChild } from './_child.ts'

const SIZES = [1_000, 10_000, 100_000]
const AGENTS = 10
const CLIENT_PROCESSES = 4
const CLIENTS_PER_PROCESS = 250
const REFS_PER_CLIENT = 10
const LOADERS = 8
const GROW_IN_FLIGHT = 256
const GET_SAMPLES = 200
const FANOUT_SAMPLES = 5
const here = new URL('.', import.meta.url)

/** The figures at one size. */
export interface ScaleRow {
  containers: number
  grow_gets_per_s: number
  coordinator_rss_mib: number
  bytes_per_container: number
  bytes_per_reference: number
  heap_bytes_per_container: number
  heap_bytes_per_reference: number
  get_p50_us: number
  get_p99_us: number
  fanout_ms_median: number
  fanout_ms_max: number
}

function progress(text: string): void {
  console.error(`[bench:scale] ${text}`)
}

function wallClockMs(): number {
  return performance.timeOrigin + performance.now()
}

/** A process of `count` clients sharing one clock, driven by lines on stdin. */
async function runClients(network: string, count: number, index: number): Promise<void> {
  const clock = new TickManagerImpl(10)
  clock.start()
  const clients: NetworkClient[] = []
  const seen = new Map<string, number>()
  for (let i = 0; i < count; i++) {
    const client = await createNetworkClient(network, { clock })
    client.onUpdate((event) => {
      for (const { type, container } of event.containers) {
        if (type !== 'added' || !container.uuid.startsWith('fanout-')) continue
        const clientsSeen = (seen.get(container.uuid) ?? 0) + 1
        seen.set(container.uuid, clientsSeen)
        if (clientsSeen === count) console.log(`fanout ${container.uuid} ${wallClockMs()}`)
      }
    })
    clients.push(client)
  }
  console.log(`connected ${count}`)
  Deno.addSignalListener('SIGTERM', () => Deno.exit(0))
  let buffer = ''
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffer += chunk
    let newline
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const [command, k, total] = buffer.slice(0, newline).split(' ')
      buffer = buffer.slice(newline + 1)
      if (command !== 'refs') continue
      await Promise.all(clients.map(async (client, i) => {
        for (let j = 0; j < Number(k); j++) {
          const n = ((index * count + i) * Number(k) + j) % Number(total)
          await client.get('echo', { uuid: `s-${n}` })
        }
      }))
      console.log('refs done')
    }
  }
}

async function grow(loaders: NetworkClient[], from: number, to: number, refs: unknown[]) {
  let next = from
  const worker = async () => {
    while (next < to) {
      const n = next++
      refs.push(await loaders[n % loaders.length].get('echo', { uuid: `s-${n}` }))
    }
  }
  await Promise.all(Array.from({ length: GROW_IN_FLIGHT }, worker))
}

async function getLatency(client: NetworkClient, size: number): Promise<[number, number]> {
  const samples: number[] = []
  const refs: ContainerReference[] = []
  for (let i = 0; i < GET_SAMPLES; i++) {
    const started = performance.now()
    refs.push(await client.get('echo', { uuid: `latency-${size}-${i}` }))
    samples.push((performance.now() - started) * 1000)
  }
  await Promise.all(refs.map((ref) => ref.close()))
  samples.sort((a, b) => a - b)
  return [Math.round(percentile(samples, 50)), Math.round(percentile(samples, 99))]
}

async function fanout(client: NetworkClient, size: number, procs: Child[]): Promise<number[]> {
  const times: number[] = []
  for (let k = 0; k < FANOUT_SAMPLES; k++) {
    const uuid = `fanout-${size}-${k}`
    const from = procs.map((proc) => proc.lines.length)
    const started = wallClockMs()
    const ref = await client.get('echo', { uuid })
    const pattern = new RegExp(`^fanout ${uuid} ([\\d.]+)$`)
    const seenAt = await Promise.all(
      procs.map(async (proc, i) => Number((await proc.line(pattern, 60_000, from[i]))[1])),
    )
    times.push(Math.max(...seenAt) - started)
    await ref.close()
  }
  return times.sort((a, b) => a - b)
}

/** Runs the scale benchmark; resolves with one row per size. */
export async function runScaleBenchmark(): Promise<ScaleRow[]> {
  const children: Child[] = []
  const loaders: NetworkClient[] = []
  try {
    const { coordinator, network } = await startCoordinatorChild()
    children.push(coordinator)
    progress(`starting ${AGENTS} agents`)
    const agents = Array.from({ length: AGENTS }, (_, i) =>
      new Child(`agent-${i}`, [
        ...runFlags,
        new URL('../cli/main.ts', here).pathname,
        'agent',
        '--network',
        network,
        '--no-endpoint',
        '--id',
        `scale-agent-${i}`,
      ]))
    children.push(...agents)
    await Promise.all(agents.map((agent) => agent.line(/registered/)))
    for (let i = 0; i < LOADERS; i++) loaders.push(await createNetworkClient(network))
    const baseline = (await coordinator.rssMiB()) * 1024 * 1024
    const heapBaseline = await coordinatorHeap(coordinator)
    const rows: ScaleRow[] = []
    const held: unknown[] = []
    for (const size of SIZES) {
      progress(`growing to ${size} containers`)
      let started = performance.now()
      const before = held.length
      await grow(loaders, held.length, size, held)
      const grow_gets_per_s = Math.round((size - before) / ((performance.now() - started) / 1000))
      const withContainers = (await coordinator.rssMiB()) * 1024 * 1024
      const heapWithContainers = await coordinatorHeap(coordinator)
      progress(`connecting ${CLIENT_PROCESSES * CLIENTS_PER_PROCESS} clients`)
      started = performance.now()
      const procs = Array.from({ length: CLIENT_PROCESSES }, (_, i) =>
        new Child(`clients-${i}`, [
          ...runFlags,
          new URL(import.meta.url).pathname,
          'clients',
          network,
          String(CLIENTS_PER_PROCESS),
          String(i),
        ], 'piped'))
      children.push(...procs)
      await Promise.all(procs.map((proc) => proc.line(/^connected/, 180_000)))
      const withClients = (await coordinator.rssMiB()) * 1024 * 1024
      const heapWithClients = await coordinatorHeap(coordinator)
      for (const proc of procs) await proc.send(`refs ${REFS_PER_CLIENT} ${size}`)
      await Promise.all(procs.map((proc) => proc.line(/^refs done/, 180_000)))
      const withReferences = (await coordinator.rssMiB()) * 1024 * 1024
      const heapWithReferences = await coordinatorHeap(coordinator)
      const references = CLIENT_PROCESSES * CLIENTS_PER_PROCESS * REFS_PER_CLIENT
      progress('measuring get latency and fan-out')
      const [get_p50_us, get_p99_us] = await getLatency(loaders[0], size)
      const fanouts = await fanout(loaders[0], size, procs)
      rows.push({
        containers: size,
        grow_gets_per_s,
        coordinator_rss_mib: Math.round(withContainers / 1024 / 1024 * 10) / 10,
        bytes_per_container: Math.round((withContainers - baseline) / size),
        bytes_per_reference: Math.round((withReferences - withClients) / references),
        heap_bytes_per_container: Math.round((heapWithContainers - heapBaseline) / size),
        heap_bytes_per_reference: Math.round((heapWithReferences - heapWithClients) / references),
        get_p50_us,
        get_p99_us,
        fanout_ms_median: Math.round(percentile(fanouts, 50) * 10) / 10,
        fanout_ms_max: Math.round(fanouts[fanouts.length - 1] * 10) / 10,
      })
      for (const proc of procs) {
        await proc.stop()
        children.splice(children.indexOf(proc), 1)
      }
    }
    return rows
  } finally {
    await Promise.all(loaders.map((loader) => loader.close()))
    for (const child of children) await child.stop()
  }
}

/** The table of the rows. */
export function formatScaleTable(rows: ScaleRow[]): string {
  const header = [
    'containers',
    'grow gets/s',
    'coord. RSS MiB',
    'RSS B/container',
    'RSS B/reference',
    'heap B/container',
    'heap B/reference',
    'get p50/p99 µs',
    'fan-out to 1k clients ms (median/max)',
  ]
  const lines = rows.map((row) => [
    String(row.containers),
    String(row.grow_gets_per_s),
    String(row.coordinator_rss_mib),
    String(row.bytes_per_container),
    String(row.bytes_per_reference),
    String(row.heap_bytes_per_container),
    String(row.heap_bytes_per_reference),
    `${row.get_p50_us} / ${row.get_p99_us}`,
    `${row.fanout_ms_median} / ${row.fanout_ms_max}`,
  ])
  const all = [header, ...lines]
  const widths = header.map((_, i) => Math.max(...all.map((line) => line[i].length)))
  return all.map((line) => line.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd())
    .join('\n')
}

if (import.meta.main) {
  if (Deno.args[0] === 'clients') {
    await runClients(Deno.args[1], Number(Deno.args[2]), Number(Deno.args[3]))
  } else {
    const rows = await runScaleBenchmark()
    console.log(
      `scale benchmark: coordinator, ${AGENTS} agents, ${
        CLIENT_PROCESSES * CLIENTS_PER_PROCESS
      } clients in ${CLIENT_PROCESSES} processes, ${navigator.hardwareConcurrency} cores`,
    )
    console.log(formatScaleTable(rows))
    console.log(JSON.stringify(rows))
  }
}
