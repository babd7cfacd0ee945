// deno-lint-ignore-file no-console -- the soak reports its figures
import assert from 'node:assert/strict'
import { Proc } from '../integration/_process.ts'

Deno.test('a 2-minute soak with random agent kills and stalls: work goes on, no unexpected error, coordinator memory does not keep growing', async () => {
  const soak = new Proc('soak', '../faults/soak.ts', ['120', '20'])
  const summary = await soak.waitFor(/^\{.*"coordinatorMiB".*\}$/, 200_000).finally(() =>
    soak.stop()
  )
  for (const line of soak.lines) console.log(line)
  const result = JSON.parse(summary[0]) as {
    ok: number
    faults: number
    errors: Record<string, number>
    coordinatorMiB: number[]
  }
  assert.ok(result.ok > 1000, `only ${result.ok} operations succeeded`)
  assert.ok(result.faults >= 5, `only ${result.faults} faults injected`)
  assert.deepEqual(Object.keys(result.errors).filter((name) => name.startsWith('unexpected')), [])
  const [first, ...rest] = result.coordinatorMiB.slice(1)
  assert.ok(rest.every((mib) => mib < first * 1.5 + 20), `memory grew: ${result.coordinatorMiB}`)
})
