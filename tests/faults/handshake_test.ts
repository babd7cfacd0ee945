import assert from 'node:assert/strict'
import { createNetworkClient } from '../../client/mod.ts'
import { AgentImpl, type AgentUuid } from '../../core/mod.ts'
import { startCoordinator } from '../../server/mod.ts'
import { within } from '../_within.ts'

Deno.test('2000 connections that never complete a handshake hold no session, are closed by the server, and a working client is not disturbed', async () => {
  await using coordinator = await startCoordinator({
    port: 0,
    socket: { handshakeInterval: 500 },
  })
  const { clock, server } = coordinator
  await using client = await createNetworkClient(server.endpoint, { clock })
  const idle: Deno.TcpConn[] = []
  using _idle = {
    [Symbol.dispose]() {
      for (const conn of idle) {
        try {
          conn.close()
        } catch {
          // closed by the server already
        }
      }
    },
  }
  await client.register(new AgentImpl('agent-1' as AgentUuid, {}))
  const [, host, port] = server.endpoint.match(/^tcp:\/\/(.+):(\d+)$/)!
  for (let i = 0; i < 2000; i++) {
    idle.push(await Deno.connect({ hostname: host, port: Number(port) }))
  }
  assert.deepEqual((await client.agents()).map((a) => a.agentId), ['agent-1'])
  // Each silent connection is closed by the server once its handshake time is up.
  await within(20_000, 'silent connections closed', () =>
    Promise.all(idle.map(async (conn) => {
      const buffer = new Uint8Array(64)
      for (;;) {
        const read = await conn.read(buffer).catch(() => null)
        if (read === null) return
      }
    })))
  assert.deepEqual((await client.agents()).map((a) => a.agentId), ['agent-1'])
  assert.equal(server.stats.rejected, 0)
})
