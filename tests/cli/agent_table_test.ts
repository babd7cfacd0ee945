import assert from 'node:assert/strict'
import { agentTable } from '../../cli/_output.ts'
import type { AgentUuid, ContainerKind } from '../../core/mod.ts'

Deno.test('the agents table marks a draining agent', () => {
  const kinds = ['counter' as ContainerKind]
  const lines = agentTable([
    { agentId: 'old' as AgentUuid, kinds, containers: 3, draining: true },
    { agentId: 'new' as AgentUuid, kinds, containers: 0 },
  ]).split('\n')
  assert.match(lines[1], /^old \(draining\)\s+counter\s+3\s+-$/)
  assert.match(lines[2], /^new\s+counter\s+0\s+-$/)
})
