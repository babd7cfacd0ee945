// deno-lint-ignore-file no-console -- a soak run reports on stdout
/**
 * Soak: mixed load (gets, requests, connections and events, releases) against a
 * coordinator and two agents, with a random fault every few seconds (an agent
 * killed and restarted, or stalled for a second). Prints memory and error counts
 * every `HULY_SOAK_REPORT_SECONDS` (60) for `HULY_SOAK_SECONDS` (600) — or the first
 * and second arguments —, then one JSON summary line. Run with `deno task soak`.
 *
 * @module
 */
import { type ContainerReference, createNetworkClient } from '../../client/mod.ts'
import { NetworkError } from '../../core/mod.ts'
import { type Proc, startAgent, startCoordinator } from '../integration/_process.ts'

const seconds = Number(Deno.args[0] ?? Deno.env.get('HULY_SOAK_SECONDS') ?? 600)
const reportEvery = Number(Deno.args[1] ?? Deno.env.get('HULY_SOAK_REPORT_SECONDS') ?? 60)
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024 * 10) / 10

const { proc: coordinator, endpoint } = await startCoordinator(0, ['--alive-timeout', '3'])
const agents: Proc[] = [await startAgent(endpoint, 'soak-1'), await startAgent(endpoint, 'soak-2')]
const client = await createNetworkClient(endpoint, {
  timeouts: { aliveTimeoutMs: 3000, pingIntervalMs: 500 },
})
const counts = { ok: 0, events: 0, faults: 0, errors: {} as Record<string, number> }
const samples: number[] = []
let running = true

function failed(error: unknown): void {
  const name = error instanceof NetworkError ? error.name : `unexpected ${String(error)}`
  counts.errors[name] = (counts.errors[name] ?? 0) + 1
}

async function worker(w: number): Promise<void> {
  for (let i = 0; running; i++) {
    let ref: ContainerReference | undefined
    try {
      ref = await client.get('echo', { uuid: `soak-${(w * 7 + i) % 50}` })
      await ref.request('echo', { w, i }, { timeoutMs: 5_000 })
      if (i % 10 === 0) {
        const connection = await ref.connect()
        connection.on = () => {
          counts.events++
        }
        await connection.request('burst', { n: 20 }, { timeoutMs: 5_000 })
        await connection.close()
      }
      counts.ok++
    } catch (error) {
      failed(error)
    } finally {
      await ref?.close().catch(failed)
    }
  }
}

async function faults(): Promise<void> {
  while (running) {
    await new Promise((resolve) => setTimeout(resolve, 4_000 + Math.random() * 4_000))
    if (!running) break
    const index = Math.floor(Math.random() * agents.length)
    counts.faults++
    if (Math.random() < 0.5) {
      agents[index].kill('SIGKILL')
      await agents[index].done
      agents[index] = await startAgent(endpoint, `soak-${index + 1}`)
    } else {
      agents[index].kill('SIGSTOP')
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      agents[index].kill('SIGCONT')
    }
  }
}

async function reports(): Promise<void> {
  const started = performance.now()
  while (running) {
    await new Promise((resolve) => setTimeout(resolve, reportEvery * 1000))
    const rss = await coordinator.rss()
    samples.push(rss)
    console.log(
      `${Math.round((performance.now() - started) / 1000)} s: coordinator ${mib(rss)} MiB, ` +
        `ok ${counts.ok}, events ${counts.events}, faults ${counts.faults}, errors ${
          JSON.stringify(counts.errors)
        }`,
    )
  }
}

const work = [...Array.from({ length: 8 }, (_, w) => worker(w)), faults(), reports()]
await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
running = false
await Promise.all(work)
await client.close()
await Promise.all(agents.map((agent) => agent.stop()))
await coordinator.stop()
console.log(JSON.stringify({ seconds, ...counts, coordinatorMiB: samples.map(mib) }))
