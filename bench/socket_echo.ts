// deno-lint-ignore-file no-console
/**
 * Echo benchmark of the ZeroMQ socket layer, on both transports, against zeromq.js
 * under Node.
 *
 * For each implementation the echo server (ROUTER) and the client (DEALER) run in
 * two separate processes on 127.0.0.1. Printed: round trips per second with 100
 * messages in flight, p50/p99 latency with one in flight, and the CPU seconds an
 * idle process with a bound ROUTER and a connected DEALER uses in 10 s.
 *
 * Run: `deno task bench:socket [--transport zmtp|libzmq]` (both transports when
 * none is named; installs zeromq@6.8.0 for Node into `bench/node/node_modules` on
 * first use).
 *
 * @module
 */

import process from 'node:process'
import { DealerSocket, parseTransport, RouterSocket, type Transport } from '../rpc/mod.ts'

const ROUND_TRIPS = 200_000
const LATENCY_SAMPLES = 20_000
const IDLE_SECONDS = 10
const payload = new Uint8Array(32).fill(7)
const here = new URL('.', import.meta.url)
const nodeDir = new URL('node/', here).pathname

interface ClientResult {
  rps: number
  latencies: number[]
}

function denoServer(transport: Transport): void {
  const router: RouterSocket = new RouterSocket({
    transport,
    onMessage: ([peer, body]) => router.send([peer, body]),
  })
  console.log(JSON.stringify({ endpoint: router.bind('tcp://127.0.0.1:0') }))
  // Runs until the parent kills it.
}

async function denoClient(endpoint: string, transport: Transport): Promise<ClientResult> {
  let onReply: () => void = () => {}
  const dealer = new DealerSocket({ transport, onMessage: () => onReply() })
  dealer.connect(endpoint)
  await new Promise<void>((resolve) => {
    onReply = resolve
    dealer.send([payload])
  })
  let started = performance.now()
  await new Promise<void>((resolve) => {
    let sent = 0
    let received = 0
    onReply = () => {
      received++
      if (sent < ROUND_TRIPS) {
        dealer.send([payload])
        sent++
      }
      if (received === ROUND_TRIPS) resolve()
    }
    for (; sent < 100; sent++) dealer.send([payload])
  })
  const rps = ROUND_TRIPS / ((performance.now() - started) / 1000)
  const latencies: number[] = []
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    started = performance.now()
    await new Promise<void>((resolve) => {
      onReply = resolve
      dealer.send([payload])
    })
    latencies.push((performance.now() - started) * 1000)
  }
  await dealer.close()
  return { rps, latencies }
}

/** The floor: Deno's own TCP echoing bytes, no framing, no ZeroMQ. */
async function rawServer(): Promise<void> {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 })
  console.log(JSON.stringify({ endpoint: `${(listener.addr as Deno.NetAddr).port}` }))
  for await (const conn of listener) {
    conn.setNoDelay(true)
    ;(async () => {
      const buffer = new Uint8Array(64 * 1024)
      for (;;) {
        const count = await conn.read(buffer).catch(() => null)
        if (count === null) break
        let written = 0
        while (written < count) written += await conn.write(buffer.subarray(written, count))
      }
    })()
  }
}

/** The raw client: the same counts as {@link denoClient}, in bytes of `payload` size. */
async function rawClient(port: string): Promise<ClientResult> {
  const conn = await Deno.connect({ hostname: '127.0.0.1', port: Number(port) })
  conn.setNoDelay(true)
  const buffer = new Uint8Array(64 * 1024)
  const readMessages = async (count: number) => {
    let bytes = 0
    while (bytes < count * payload.length) bytes += (await conn.read(buffer)) ?? 0
  }
  const burst = new Uint8Array(payload.length * 100)
  let started = performance.now()
  await conn.write(burst)
  let received = 0
  while (received < ROUND_TRIPS) {
    const count = await conn.read(buffer)
    if (count === null) break
    // Each message that came back is sent again, as the DEALER does.
    const messages = Math.floor(count / payload.length)
    received += messages
    if (received < ROUND_TRIPS) await conn.write(burst.subarray(0, count))
  }
  const rps = ROUND_TRIPS / ((performance.now() - started) / 1000)
  const latencies: number[] = []
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    started = performance.now()
    // The read waits while the write goes out, as in a socket's read loop.
    const reply = readMessages(1)
    await conn.write(payload)
    await reply
    latencies.push((performance.now() - started) * 1000)
  }
  conn.close()
  return { rps, latencies }
}

function cpuSecondsOfThisProcess(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}

async function denoIdle(transport: Transport): Promise<void> {
  const router: RouterSocket = new RouterSocket({
    transport,
    onMessage: ([peer, body]) => router.send([peer, body]),
    onEvent: () => {},
  })
  let replied: () => void = () => {}
  const dealer = new DealerSocket({ transport, onMessage: () => replied(), onEvent: () => {} })
  dealer.connect(router.bind('tcp://127.0.0.1:0'))
  await new Promise<void>((resolve) => {
    replied = resolve
    dealer.send([payload])
  })
  await new Promise((resolve) => setTimeout(resolve, 500))
  const before = cpuSecondsOfThisProcess()
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000))
  console.log(JSON.stringify({ cpuSeconds: cpuSecondsOfThisProcess() - before }))
  await dealer.close()
  await router.close()
}

async function startServer(command: string, args: string[], cwd?: string) {
  const child = new Deno.Command(command, { args, cwd, stdout: 'piped', stderr: 'inherit' })
    .spawn()
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  while (!text.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`${command} server ended early`)
    text += value
  }
  reader.releaseLock()
  const endpoint = (JSON.parse(text.split('\n')[0]) as { endpoint: string }).endpoint
  return { endpoint, child }
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  child.kill('SIGTERM')
  await child.status
  await child.stdout.cancel().catch(() => {})
}

async function runJson<T>(command: string, args: string[], cwd?: string): Promise<T> {
  const output = await new Deno.Command(command, { args, cwd, stderr: 'inherit' }).output()
  if (!output.success) throw new Error(`${command} ${args.join(' ')} failed`)
  return JSON.parse(new TextDecoder().decode(output.stdout).trim().split('\n').pop()!) as T
}

async function ensureNodeZeromq(): Promise<void> {
  try {
    Deno.statSync(`${nodeDir}node_modules/zeromq/package.json`)
  } catch {
    console.log('installing zeromq@6.8.0 for Node into bench/node/node_modules ...')
    const npm = await new Deno.Command('npm', {
      args: ['install', '--prefix', nodeDir, '--no-audit', '--no-fund'],
      stdout: 'inherit',
      stderr: 'inherit',
    }).output()
    if (!npm.success) throw new Error('npm install failed')
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

const denoFlags = [
  'run',
  '--allow-read',
  '--allow-ffi',
  '--allow-net',
  new URL(import.meta.url).pathname,
]
const TRANSPORT_NAMES: Record<Transport, string> = {
  zmtp: 'huly zmtp (Deno TCP, native)',
  libzmq: 'huly libzmq (Deno FFI)',
}

async function main(): Promise<void> {
  await ensureNodeZeromq()
  const rows: Record<string, string | number>[] = []
  const addRow = (name: string, client: ClientResult, idle: number) => {
    const sorted = client.latencies.toSorted((a, b) => a - b)
    rows.push({
      implementation: name,
      'round trips/s (100 in flight)': Math.round(client.rps),
      'p50 µs (1 in flight)': Math.round(percentile(sorted, 50)),
      'p99 µs (1 in flight)': Math.round(percentile(sorted, 99)),
      [`idle CPU s in ${IDLE_SECONDS} s`]: Number(idle.toFixed(3)),
    })
  }

  const raw = await startServer(Deno.execPath(), [...denoFlags, 'raw-server'])
  const rawResult = await runJson<ClientResult>(Deno.execPath(), [
    ...denoFlags,
    'raw-client',
    raw.endpoint,
  ])
  await stop(raw.child)
  addRow('Deno TCP, no framing (the floor)', rawResult, Number.NaN)

  const named = Deno.args.indexOf('--transport')
  const transports: Transport[] = named >= 0
    ? [parseTransport(Deno.args[named + 1] ?? '', '--transport')]
    : ['zmtp', 'libzmq']
  for (const transport of transports) {
    const server = await startServer(Deno.execPath(), [...denoFlags, 'server', transport])
    const result = await runJson<ClientResult>(Deno.execPath(), [
      ...denoFlags,
      'client',
      transport,
      server.endpoint,
    ])
    await stop(server.child)
    const idle = await runJson<{ cpuSeconds: number }>(Deno.execPath(), [
      ...denoFlags,
      'idle',
      transport,
    ])
    addRow(TRANSPORT_NAMES[transport], result, idle.cpuSeconds)
  }

  const nodeServer = await startServer('node', ['echo.mjs', 'server'], nodeDir)
  const nodeResult = await runJson<ClientResult>(
    'node',
    ['echo.mjs', 'client', nodeServer.endpoint, String(ROUND_TRIPS), String(LATENCY_SAMPLES)],
    nodeDir,
  )
  await stop(nodeServer.child)
  const nodeIdle = await runJson<{ cpuSeconds: number }>(
    'node',
    ['echo.mjs', 'idle', String(IDLE_SECONDS)],
    nodeDir,
  )
  addRow(`zeromq.js 6.8.0 (Node ${(await nodeVersion()).trim()})`, nodeResult, nodeIdle.cpuSeconds)

  console.log(
    `echo, 32-byte messages, server and client in separate processes, ${navigator.hardwareConcurrency} cores`,
  )
  console.table(rows)
}

async function nodeVersion(): Promise<string> {
  const output = await new Deno.Command('node', { args: ['--version'] }).output()
  return new TextDecoder().decode(output.stdout)
}

switch (Deno.args[0]) {
  case 'server':
    denoServer(parseTransport(Deno.args[1]))
    break
  case 'client':
    console.log(JSON.stringify(await denoClient(Deno.args[2], parseTransport(Deno.args[1]))))
    break
  case 'raw-server':
    await rawServer()
    break
  case 'raw-client':
    console.log(JSON.stringify(await rawClient(Deno.args[1])))
    break
  case 'idle':
    await denoIdle(parseTransport(Deno.args[1]))
    break
  default:
    await main()
}
