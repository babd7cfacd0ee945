// The modern API rejects huly.net-style calls loudly, naming the compat export.
import assert from 'node:assert/strict'
import { createNetworkClient } from '@huly/network/client'
import {
  AgentImpl,
  type AgentUuid,
  ManualTickManager,
  NetworkImpl,
  type StartOptions,
} from '@huly/network/core'
import { InvalidArgumentError } from '@huly/network/core'
import { NetworkServer } from '@huly/network/server'

function namesCompat(error: unknown): boolean {
  return error instanceof InvalidArgumentError && error.message.includes('@huly/network/compat')
}

Deno.test('createNetworkClient(url, aliveTimeout) names the compat export', async () => {
  // deno-lint-ignore no-explicit-any -- the huly.net call, on purpose
  await assert.rejects(createNetworkClient('127.0.0.1:3737', 5 as any), namesCompat)
})

Deno.test('new NetworkServer(network, clock, host, port) names the compat export', () => {
  const clock = new ManualTickManager()
  const network = new NetworkImpl(clock)
  // deno-lint-ignore no-explicit-any -- the huly.net call, on purpose
  assert.throws(() => new NetworkServer(network, clock, '*' as any), namesCompat)
  void network.close()
})

Deno.test('agent.get(kind, options) names the compat export', async () => {
  const agent = new AgentImpl('agent-1' as AgentUuid, {})
  await assert.rejects(agent.get('echo' as unknown as StartOptions), namesCompat)
})
