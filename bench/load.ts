// deno-lint-ignore-file no-console -- a benchmark that reports on stdout and stderr
/**
 * The load benchmark (issue #6): the coordinator, one agent (the demo agent's
 * `echo` kind) and one client run as three OS processes on 127.0.0.1. The client
 * measures gets/s, routed and connected latency and throughput, and an event
 * burst; this process adds each process's RSS and the raw echo ceiling of the
 * socket layer from the same run. stdout gets a table and one JSON object;
 * progress goes to stderr.
 *
 * Run: `deno task bench:load [--transport zmtp|libzmq]` (both transports side by
 * side when none is named), or `deno task net bench` (the default transport).
 *
 * @module
 */
import { join } from 'node:path'
import { createNetworkClient, type NetworkClientOptions } from '../client/mod.ts'
import { curvePublicKey, defaultTransport, parseTransport, type Transport } from '../rpc/mod.ts'
import { readKeyFile, writeKeyPair } from '../server/keys.ts'
import { Child, childEnvironment, percentile, runFlags, startCoordinatorChild } from './_child.ts'

/** The figures of one run. */
export interface LoadResult {
  get_per_s: number
  routed_p50_us: number
  routed_p99_us: number
  routed_req_per_s: number
  connection_p50_us: number
  connection_p99_us: number
  connection_req_per_s: number
  events_per_s: number
  events_lost: number
  rss_coordinator_mib: number
  rss_agent_mib: number
  rss_client_mib: number
  socket_echo_round_trips_per_s: number
  socket_echo_p50_us: number
  socket_echo_p99_us: number
  /**
   * Encryption's cost (absent without --allow-write): the trio without and with
   * CURVE and an access list, in alternated runs.
   */
  trio_plain_routed_req_per_s?: number
  trio_plain_connection_req_per_s?: number
  curve_routed_req_per_s?: number
  curve_connection_req_per_s?: number
}

type ClientFigures = Pick<
  LoadResult,
  | 'get_per_s'
  | 'routed_p50_us'
  | 'routed_p99_us'
  | 'routed_req_per_s'
  | 'connection_p50_us'
  | 'connection_p99_us'
  | 'connection_req_per_s'
  | 'events_per_s'
  | 'events_lost'
>

const GETS = 200
const SEQUENTIAL = 2000
const IN_FLIGHT = 64
const THROUGHPUT_SECONDS = 5
const BURST = 20_000
const WARM_UP = 2000
const here = new URL('.', import.meta.url)

function payload(index: number): unknown {
  return { hello: 'world', index, tags: ['a', 'b'], nested: { x: 1.5 } }
}

type Requester = { request(operation: string, data?: unknown): Promise<unknown> }

/** p50/p99 in µs over `count` sequential requests. */
async function latency(target: Requester, count: number): Promise<[number, number]> {
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    await target.request('echo', payload(i))
    samples.push((performance.now() - started) * 1000)
  }
  samples.sort((a, b) => a - b)
  return [Math.round(percentile(samples, 50)), Math.round(percentile(samples, 99))]
}

/** Requests per second with `IN_FLIGHT` outstanding for `seconds`. */
async function throughput(target: Requester, seconds: number): Promise<number> {
  const started = performance.now()
  const end = started + seconds * 1000
  let done = 0
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await target.request('echo', payload(done))
      done++
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return Math.round(done / ((performance.now() - started) / 1000))
}

function progress(text: string): void {
  console.error(`[bench:load] ${text}`)
}

/** The client process: runs every client-side measurement against `network`. */
async function runClient(network: string): Promise<ClientFigures> {
  const client = await createNetworkClient(network, { clientId: 'bench-client' })
  const ref = await client.get('echo', { uuid: 'bench-echo' })
  const connection = await ref.connect()
  let received = 0
  let lastEventAt = 0
  connection.on = () => {
    received++
    lastEventAt = performance.now()
  }
  progress('warming up')
  for (const target of [ref, connection]) {
    await latency(target, WARM_UP)
    await throughput(target, 1)
  }
  for (let i = 0; i < 100; i++) await (await client.get('echo', { uuid: `warm-${i}` })).close()
  await connection.request('burst', { n: 1000 })
  await untilQuiet(() => received >= 1000, () => lastEventAt)

  progress('gets')
  let started = performance.now()
  const refs = []
  for (let i = 0; i < GETS; i++) refs.push(await client.get('echo', { uuid: `bench-get-${i}` }))
  const get_per_s = Math.round(GETS / ((performance.now() - started) / 1000))
  await Promise.all(refs.map((each) => each.close()))

  progress('routed')
  const [routed_p50_us, routed_p99_us] = await latency(ref, SEQUENTIAL)
  const routed_req_per_s = await throughput(ref, THROUGHPUT_SECONDS)
  progress('connection')
  const [connection_p50_us, connection_p99_us] = await latency(connection, SEQUENTIAL)
  const connection_req_per_s = await throughput(connection, THROUGHPUT_SECONDS)

  progress('events')
  received = 0
  started = performance.now()
  await connection.request('burst', { n: BURST })
  await untilQuiet(() => received >= BURST, () => lastEventAt)
  const events_per_s = Math.round(received / ((lastEventAt - started) / 1000))
  const events_lost = BURST - received

  await connection.close()
  await ref.close()
  await client.close()
  return {
    get_per_s,
    routed_p50_us,
    routed_p99_us,
    routed_req_per_s,
    connection_p50_us,
    connection_p99_us,
    connection_req_per_s,
    events_per_s,
    events_lost,
  }
}

/** Routed and connection requests/s of one trio. */
interface TrioFigures {
  routed: number
  connection: number
}

/**
 * The client of a throughput trio: routed and connection requests/s only; with
 * CURVE when given its secret key file and the coordinator's public key file.
 */
async function runTrioClient(
  network: string,
  keyFile?: string,
  serverKeyFile?: string,
): Promise<TrioFigures> {
  let options: NetworkClientOptions = {}
  if (keyFile !== undefined && serverKeyFile !== undefined) {
    const secretKey = await readKeyFile(keyFile)
    const serverKey = await readKeyFile(serverKeyFile)
    options = { socket: { curve: { serverKey, secretKey, publicKey: curvePublicKey(secretKey) } } }
  }
  const client = await createNetworkClient(network, options)
  const ref = await client.get('echo', { uuid: 'bench-echo' })
  const connection = await ref.connect()
  for (const target of [ref, connection]) {
    await latency(target, WARM_UP)
    await throughput(target, 1)
  }
  const routed = await throughput(ref, THROUGHPUT_SECONDS)
  const figures = { routed, connection: await throughput(connection, THROUGHPUT_SECONDS) }
  await client.close()
  return figures
}

/**
 * A coordinator, the demo agent and a throughput client; with `keys` (a folder
 * holding the access file and key pairs), CURVE on every link.
 */
async function throughputTrio(keys: string | undefined): Promise<TrioFigures> {
  const children: Child[] = []
  const file = (name: string) => keys === undefined ? [] : [join(keys, name)]
  try {
    const access = file('access.json').flatMap((path) => ['--access', path])
    const { coordinator, network } = await startCoordinatorChild(access)
    children.push(coordinator)
    const agentKeys = file('agent.key').flatMap((key) => [
      '--key',
      key,
      '--server-key',
      ...file('coordinator.pub'),
    ])
    children.push(startAgent(network, agentKeys))
    await children[1].line(/registered/)
    const client = new Child('client', [
      ...runFlags,
      new URL(import.meta.url).pathname,
      'client-trio',
      network,
      ...file('client.key'),
      ...file('coordinator.pub'),
    ])
    children.push(client)
    return JSON.parse((await client.line(/^\{.*/, 300_000))[0])
  } finally {
    for (const child of children) await child.stop()
  }
}

/**
 * Encryption's cost: plain and CURVE trios, alternated (plain, CURVE, plain, CURVE)
 * so both see the same load of a shared machine; the mean of each pair. Keys go in
 * a temporary folder, so it needs --allow-write.
 */
async function encryptionCost(): Promise<
  Pick<
    LoadResult,
    | 'trio_plain_routed_req_per_s'
    | 'trio_plain_connection_req_per_s'
    | 'curve_routed_req_per_s'
    | 'curve_connection_req_per_s'
  >
> {
  if (Deno.permissions.querySync({ name: 'write' }).state !== 'granted') {
    progress('no --allow-write: the CURVE rows are skipped')
    return {}
  }
  const dir = await Deno.makeTempDir({ prefix: 'huly-bench-' })
  try {
    for (const name of ['coordinator', 'agent', 'client']) await writeKeyPair(join(dir, name))
    await Deno.writeTextFile(
      join(dir, 'access.json'),
      JSON.stringify({
        secretKeyFile: 'coordinator.key',
        peers: [
          { name: 'agent', publicKeyFile: 'agent.pub', role: 'agent' },
          { name: 'client', publicKeyFile: 'client.pub', role: 'client' },
        ],
      }),
    )
    const plain: TrioFigures[] = []
    const curve: TrioFigures[] = []
    for (let round = 1; round <= 2; round++) {
      progress(`encryption's cost, round ${round}: plain`)
      plain.push(await throughputTrio(undefined))
      progress(`encryption's cost, round ${round}: CURVE`)
      curve.push(await throughputTrio(dir))
    }
    const mean = (runs: TrioFigures[], key: keyof TrioFigures) =>
      Math.round(runs.reduce((sum, run) => sum + run[key], 0) / runs.length)
    return {
      trio_plain_routed_req_per_s: mean(plain, 'routed'),
      trio_plain_connection_req_per_s: mean(plain, 'connection'),
      curve_routed_req_per_s: mean(curve, 'routed'),
      curve_connection_req_per_s: mean(curve, 'connection'),
    }
  } finally {
    await Deno.remove(dir, { recursive: true })
  }
}

/** The demo agent (kind `echo`) with its own endpoint, as a child process. */
function startAgent(network: string, extra: string[] = []): Child {
  return new Child('agent', [
    ...runFlags,
    new URL('../cli/main.ts', here).pathname,
    'agent',
    '--network',
    network.replace('tcp://', ''),
    '--listen',
    '127.0.0.1:0',
    '--id',
    'bench-agent',
    ...extra,
  ])
}

/** Waits until `done()`, or until no event came for 2 s. */
async function untilQuiet(done: () => boolean, lastEventAt: () => number): Promise<void> {
  const waitedFrom = performance.now()
  while (!done()) {
    const quietSince = Math.max(waitedFrom, lastEventAt())
    if (performance.now() - quietSince > 2000) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** The raw socket echo (bench/socket_echo.ts) in two processes: rps and latency. */
async function socketBaseline(transport: Transport): Promise<
  Pick<LoadResult, 'socket_echo_round_trips_per_s' | 'socket_echo_p50_us' | 'socket_echo_p99_us'>
> {
  const script = new URL('socket_echo.ts', here).pathname
  const server = new Child('socket echo server', [...runFlags, script, 'server', transport])
  try {
    const endpoint = JSON.parse((await server.line(/^\{.*/))[0]).endpoint as string
    const output = await new Deno.Command(Deno.execPath(), {
      args: [...runFlags, script, 'client', transport, endpoint],
      stdin: 'null',
      stderr: 'inherit',
    }).output()
    if (!output.success) throw new Error('the socket echo client failed')
    const { rps, latencies } = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      rps: number
      latencies: number[]
    }
    latencies.sort((a, b) => a - b)
    return {
      socket_echo_round_trips_per_s: Math.round(rps),
      socket_echo_p50_us: Math.round(percentile(latencies, 50)),
      socket_echo_p99_us: Math.round(percentile(latencies, 99)),
    }
  } finally {
    await server.stop()
  }
}

/**
 * Runs the whole benchmark on `transport` (every process uses it): three
 * processes, then the socket baseline.
 */
export async function runLoadBenchmark(
  transport: Transport = defaultTransport(),
): Promise<LoadResult> {
  const children: Child[] = []
  childEnvironment.HULY_NETWORK_TRANSPORT = transport
  try {
    progress('starting the coordinator')
    const { coordinator, network } = await startCoordinatorChild()
    children.push(coordinator)
    progress('starting the agent')
    const agent = startAgent(network)
    children.push(agent)
    await agent.line(/registered/)
    progress('starting the client')
    const client = new Child('client', [
      ...runFlags,
      new URL(import.meta.url).pathname,
      'client',
      network,
    ])
    children.push(client)
    const figures = JSON.parse((await client.line(/^\{.*/, 300_000))[0]) as ClientFigures
    const [rss_coordinator_mib, rss_agent_mib, rss_client_mib] = await Promise.all(
      [coordinator, agent, client].map((child) => child.rssMiB()),
    )
    for (const child of children.splice(0)) await child.stop()
    progress('raw socket echo baseline')
    const baseline = await socketBaseline(transport)
    return {
      ...figures,
      rss_coordinator_mib,
      rss_agent_mib,
      rss_client_mib,
      ...baseline,
      ...await encryptionCost(),
    }
  } finally {
    for (const child of children) await child.stop()
  }
}

/** The table of one result, one row per figure, with its ratio to the socket ceiling. */
export function formatLoadTable(result: LoadResult): string {
  return formatRows(loadRows(result))
}

/** The results of several transports side by side, one column each. */
export function formatLoadComparison(results: Partial<Record<Transport, LoadResult>>): string {
  const names = Object.keys(results) as Transport[]
  const columns = names.map((name) => loadRows(results[name]!))
  const rows = columns[0].map((row, i) => [
    row[0],
    ...columns.map((column) => `${column[i][1]}${column[i][2] ? ` (${column[i][2]})` : ''}`),
  ])
  return formatRows([['', ...names], ...rows])
}

function formatRows(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)))
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd())
    .join('\n')
}

/** One row per figure: its name, its value, and a note (its ratio to the socket ceiling). */
function loadRows(result: LoadResult): [string, string, string][] {
  const ceiling = result.socket_echo_round_trips_per_s
  const ratio = (value: number) => `${(value / ceiling * 100).toFixed(0)} % of socket echo`
  const rows: [string, string, string][] = [
    ['gets/s (200 sequential, distinct uuids)', String(result.get_per_s), ''],
    ['routed p50 / p99 µs (1 in flight)', `${result.routed_p50_us} / ${result.routed_p99_us}`, ''],
    [
      'routed req/s (64 in flight)',
      String(result.routed_req_per_s),
      ratio(result.routed_req_per_s),
    ],
    [
      'connection p50 / p99 µs (1 in flight)',
      `${result.connection_p50_us} / ${result.connection_p99_us}`,
      '',
    ],
    [
      'connection req/s (64 in flight)',
      String(result.connection_req_per_s),
      ratio(result.connection_req_per_s),
    ],
    ['events/s (burst of 20 000)', String(result.events_per_s), ''],
    ['events lost', String(result.events_lost), ''],
    [
      'RSS MiB coordinator / agent / client',
      `${result.rss_coordinator_mib} / ${result.rss_agent_mib} / ${result.rss_client_mib}`,
      '',
    ],
    ['socket echo round trips/s (100 in flight)', String(ceiling), 'the ceiling'],
    [
      'socket echo p50 / p99 µs (1 in flight)',
      `${result.socket_echo_p50_us} / ${result.socket_echo_p99_us}`,
      '',
    ],
  ]
  const { trio_plain_routed_req_per_s: plainRouted, curve_routed_req_per_s: curveRouted } = result
  const { trio_plain_connection_req_per_s: plainDirect, curve_connection_req_per_s: curveDirect } =
    result
  const cost = (plain: number, curve: number): [string, string] => [
    `${plain} / ${curve}`,
    `CURVE ${(curve / plain * 100).toFixed(0)} % of plain`,
  ]
  if (plainRouted !== undefined && curveRouted !== undefined) {
    rows.push(['routed req/s plain / CURVE (alternated runs)', ...cost(plainRouted, curveRouted)])
  }
  if (plainDirect !== undefined && curveDirect !== undefined) {
    rows.push([
      'connection req/s plain / CURVE (alternated runs)',
      ...cost(plainDirect, curveDirect),
    ])
  }
  return rows
}

if (import.meta.main) {
  if (Deno.args[0] === 'client-trio') {
    console.log(JSON.stringify(await runTrioClient(Deno.args[1], Deno.args[2], Deno.args[3])))
    setInterval(() => {}, 60_000)
  } else if (Deno.args[0] === 'client') {
    const figures = await runClient(Deno.args[1])
    console.log(JSON.stringify(figures))
    // Stays alive so the parent can read its RSS, until it is stopped.
    setInterval(() => {}, 60_000)
  } else {
    const named = Deno.args.indexOf('--transport')
    const transports: Transport[] = named >= 0
      ? [parseTransport(Deno.args[named + 1] ?? '', '--transport')]
      : ['zmtp', 'libzmq']
    const results: Partial<Record<Transport, LoadResult>> = {}
    for (const transport of transports) {
      progress(`transport ${transport}`)
      results[transport] = await runLoadBenchmark(transport)
    }
    console.log(
      `load benchmark: 3 processes on 127.0.0.1, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`,
    )
    console.log(formatLoadComparison(results))
    console.log(JSON.stringify(results))
  }
}
