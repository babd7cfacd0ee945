// Breaks 4 and 5 of issue 14: ~20k idle connections to the HTTP port ended the
// coordinator (out of file descriptors), half-sent requests stayed open for 45 s,
// and live streams that never read held gigabytes.
import assert from 'node:assert/strict'
import { createNetworkClient } from '../../client/mod.ts'
import { assertSurvived, AttackStage, sleep, transports } from './_attack.ts'

const encoder = new TextEncoder()

/** Opens `count` connections to `url`'s port and writes `text` on each; never reads. */
async function openConnections(url: string, count: number, text: string): Promise<Deno.Conn[]> {
  const port = Number(new URL(url).port)
  const connections: Deno.Conn[] = []
  for (let i = 0; i < count; i++) {
    const connection = await Deno.connect({ hostname: '127.0.0.1', port })
    connections.push(connection)
    await connection.write(encoder.encode(text)).catch(() => {})
  }
  return connections
}

function closeAll(connections: Deno.Conn[]): void {
  for (const connection of connections) {
    try {
      connection.close()
    } catch {
      // closed by the server
    }
  }
}

for (const transport of transports) {
  Deno.test(`[${transport}] 2000 half-sent HTTP requests: past the connection limit they are closed, the rest time out`, async () => {
    await using stage = await AttackStage.start(transport, [
      '--http-max-connections',
      '500',
      '--http-header-timeout',
      '1',
    ])
    let connections: Deno.Conn[] = []
    try {
      const report = await stage.measure(async () => {
        connections = await openConnections(stage.httpUrl, 2000, 'GET /metrics HTTP/1.1\r\n')
        await sleep(1800)
      })
      assertSurvived('2000 half-sent HTTP requests', report, { rssGrowthMiB: 60, p99Ms: 100 })
      assert.equal((await fetch(`${stage.httpUrl}/healthz`)).status, 200)
      assert.ok(await stage.refused('http-connections') >= 1000)
      assert.ok(await stage.refused('http-header-timeout') >= 400)
    } finally {
      closeAll(connections)
    }
  })

  Deno.test(`[${transport}] live streams that never read are cut at their byte bound while containers with many labels come`, async () => {
    await using stage = await AttackStage.start(transport, ['--http-stream-bytes', '1048576'])
    let streams: Deno.Conn[] = []
    const getter = await createNetworkClient(stage.endpoint, { clientId: 'labels' })
    try {
      const report = await stage.measure(async () => {
        streams = await openConnections(
          stage.httpUrl,
          32,
          'GET /api/events HTTP/1.1\r\nhost: x\r\n\r\n',
        )
        for (let i = 0; i < 40; i++) {
          const labels = Array.from({ length: 256 }, (_, l) => `${i}-${l}-${'x'.repeat(240)}`)
          await getter.get('echo', { labels })
          await sleep(50)
        }
        await sleep(2000)
      })
      assertSurvived('32 unread streams, 40 containers of 64 KiB labels', report, {
        rssGrowthMiB: 250,
        p99Ms: 150,
      })
      assert.ok(await stage.refused('http-stream-bytes') >= 16)
      await assert.rejects(
        getter.get('echo', { labels: Array.from({ length: 257 }, (_, l) => `${l}`) }),
        { name: 'InvalidArgumentError', remote: true },
      )
    } finally {
      closeAll(streams)
      await getter.close()
    }
  })
}
