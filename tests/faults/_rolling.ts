// Helpers of the rolling restart tests: agent processes that drain on SIGTERM.
import assert from 'node:assert/strict'
import type { DrainResult } from '../../core/mod.ts'
import { Proc } from '../integration/_process.ts'

/** An agent process of `_rolling_agent.ts`, once registered. */
export async function startRollingAgent(
  endpoint: string,
  id: string,
  drainMs = 10_000,
): Promise<Proc> {
  const proc = new Proc(id, '../faults/_rolling_agent.ts', [endpoint, id, String(drainMs)])
  await proc.waitFor(/^registered /, 20_000)
  return proc
}

/** SIGTERM: the agent drains, prints its result and exits 0. */
export async function drain(agent: Proc, timeoutMs = 20_000): Promise<DrainResult> {
  agent.kill('SIGTERM')
  const [, json] = await agent.waitFor(/^drained (.*)$/, timeoutMs)
  assert.equal((await agent.done).code, 0, `${agent.name} exits 0`)
  return JSON.parse(json)
}
