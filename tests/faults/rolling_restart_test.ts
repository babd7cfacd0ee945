// deno-lint-ignore-file no-console -- the test reports what it measured
// Acceptance of issue 18 with real processes: a rolling restart of every agent and
// of the coordinator under load loses nothing, runs nothing twice, never has two
// live copies of a container, and a counter that hands over its state never goes back.
import assert from 'node:assert/strict'
import { createNetworkClient, type NetworkClient } from '../../client/mod.ts'
import { Proc, startCoordinator, within } from '../integration/_process.ts'
import { drain, startRollingAgent } from './_rolling.ts'

const CONTAINERS = 60

/** Held requests and the bucket bound of the longest hold, from a coordinator's /metrics. */
async function holds(coordinator: Proc): Promise<{ count: number; longestMs: number }> {
  const [, url] = await coordinator.waitFor(/http endpoint on (http:\/\/\S+)/)
  const text = await (await fetch(`${url}/metrics`)).text()
  const buckets = [
    ...text.matchAll(/^huly_network_held_request_wait_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm),
  ]
  const count = Number(
    text.match(/^huly_network_held_request_wait_seconds_count (\d+)$/m)?.[1] ?? 0,
  )
  const bound = buckets.find(([, , cumulative]) => Number(cumulative) === count)?.[1] ?? '0'
  return { count, longestMs: count === 0 ? 0 : Number(bound) * 1000 }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Activations of each container from `activate`/`deactivate` lines of every agent. */
function activations(agents: Proc[]): Map<string, Array<{ from: number; to?: number }>> {
  const byUuid = new Map<string, Array<{ from: number; to?: number }>>()
  for (const agent of agents) {
    const open = new Map<string, { from: number; to?: number }>()
    for (const line of agent.lines) {
      const [word, uuid, at] = line.split(' ')
      if (word === 'activate') {
        const span = { from: Number(at) }
        open.set(uuid, span)
        byUuid.set(uuid, [...byUuid.get(uuid) ?? [], span])
      } else if (word === 'deactivate') open.get(uuid)!.to = Number(at)
    }
  }
  return byUuid
}

/** Uuids whose copies overlapped in time: one started before the previous one ended. */
function overlaps(byUuid: Map<string, Array<{ from: number; to?: number }>>): string[] {
  const found: string[] = []
  for (const [uuid, spans] of byUuid) {
    const sorted = spans.toSorted((a, b) => a.from - b.from)
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1]
      if (previous.to === undefined || sorted[i].from < previous.to) found.push(uuid)
    }
  }
  return found
}

Deno.test({
  name:
    'a rolling restart of every agent and twice of the coordinator under load fails nothing, runs nothing twice and keeps one live copy with its state',
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const first = await startCoordinator()
    let coordinator = first.proc
    const agents: Proc[] = []
    const clients: Proc[] = []
    let holder: NetworkClient | undefined
    try {
      for (const id of ['a1', 'a2', 'a3']) agents.push(await startRollingAgent(first.endpoint, id))
      holder = await createNetworkClient(first.endpoint, {
        timeouts: { aliveTimeoutMs: 2000, pingIntervalMs: 500, requestTimeoutMs: 20_000 },
      })
      const refs = await Promise.all(
        Array.from({ length: CONTAINERS }, (_, i) => holder!.get('counter', { uuid: `c-${i}` })),
      )
      for (const name of ['k1', 'k2']) {
        const client = new Proc(name, '../faults/_rolling_client.ts', [
          first.endpoint,
          name,
          String(CONTAINERS),
          '8',
        ])
        clients.push(client)
      }
      for (const client of clients) await client.waitFor(/^ready$/, 20_000)
      await sleep(1_000)

      const drains: number[] = []
      for (const [i, old] of agents.slice(0, 3).entries()) {
        agents.push(await startRollingAgent(first.endpoint, `b${i + 1}`))
        const result = await drain(old)
        assert.equal(result.complete, true, `${old.name}: ${result.reason}`)
        drains.push(result.durationMs)
        console.log(`drained ${old.name}: ${result.moved} moved in ${result.durationMs} ms`)
        await sleep(500)
      }
      const held = await holds(coordinator)
      for (let restart = 1; restart <= 2; restart++) {
        coordinator.kill('SIGTERM')
        assert.equal((await coordinator.done).code, 0, 'the coordinator exits 0')
        coordinator = (await startCoordinator(first.port)).proc
        console.log(`coordinator restarted (${restart})`)
        await sleep(2_500)
      }
      await sleep(1_000)

      const summaries = []
      for (const client of clients) {
        client.kill('SIGTERM')
        const [, json] = await client.waitFor(/^summary (.*)$/, 30_000)
        summaries.push(JSON.parse(json))
      }
      const served = summaries.reduce((sum, s) => sum + s.ok, 0)
      const failed = summaries.reduce((sum, s) => sum + s.failed, 0)
      const backwards = summaries.reduce((sum, s) => sum + s.backwards, 0)
      const slowest = Math.max(...summaries.map((s) => s.slowestMs))
      const errors = summaries.flatMap((s) => s.errors)
      const ranTwiceOrLost: string[] = []
      for (const [i, ref] of refs.entries()) {
        const sent = summaries.reduce((sum, s) => sum + s.counts[i], 0)
        const value = await within(20_000, 'get', () => ref.request('get'))
        if (value !== sent) ranTwiceOrLost.push(`${ref.uuid}: ${value} != ${sent}`)
      }
      const lives = activations(agents)
      const overlapping = overlaps(lives)
      const moved = [...lives.values()].filter((spans) => spans.length > 1).length
      console.log(
        `requests served ${served}, failed ${failed}, held ${held.count} (longest hold <= ${held.longestMs} ms), longest request ${
          slowest.toFixed(0)
        } ms, drains ${
          drains.map((ms) => `${ms} ms`).join(', ')
        }, ${moved} containers activated more than once`,
      )
      assert.deepEqual(errors, [])
      assert.equal(failed, 0)
      assert.equal(backwards, 0, 'a counter never goes backwards')
      assert.deepEqual(ranTwiceOrLost, [], 'every increment ran exactly once')
      assert.deepEqual(overlapping, [], 'never two live copies of a container')
      assert.ok(moved >= CONTAINERS, 'every counter moved at least once')
      console.log('0 failed requests')
    } finally {
      await holder?.close()
      await Promise.all([...clients, ...agents].map((proc) => proc.stop()))
      await coordinator.stop()
    }
  },
})
