// Logs: the coordinator and the CLI configure LogTape's sinks; text by default,
// JSON Lines with --log-format json, the level by flag or environment. The CLI
// writes log records to stderr only, so its stdout stays the command's output.
import assert from 'node:assert/strict'
import { runCli, startServe } from '../cli/_cli.ts'

interface LogLine {
  '@timestamp': string
  level: string
  message: string
  logger: string
  properties: Record<string, unknown>
}

function jsonLines(lines: string[]): LogLine[] {
  return lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))
}

Deno.test('the coordinator logs JSON Lines with --log-format json, at the level of --log-level', async () => {
  const { serve } = await startServe(['--log-format', 'json', '--log-level', 'info'])
  try {
    await serve.waitFor(/listening on/)
    const records = jsonLines(serve.stdout)
    const listening = records.find((record) => record.logger === 'huly-network.server')
    assert.ok(listening, serve.stdout.join('\n'))
    assert.equal(listening.level, 'INFO')
    assert.match(listening.message, /network server listening on/)
    assert.match(String(listening.properties.endpoint), /^tcp:\/\//)
    assert.ok(records.some((record) => record.logger === 'huly-network.server.http'))
    assert.ok(!Number.isNaN(Date.parse(listening['@timestamp'])))
  } finally {
    await serve.stop()
  }
})

Deno.test('a CLI command logs to stderr only, at the level and in the format it is told', async () => {
  const { serve, address } = await startServe()
  try {
    const quiet = await runCli(['agents', '--json', '--network', address])
    assert.equal(quiet.code, 0)
    assert.deepEqual(quiet.stderr.filter((line) => line.trim() !== ''), [])

    const verbose = await runCli(['agents', '--json', '--network', address], {
      env: { HULY_NETWORK_LOG_LEVEL: 'debug', HULY_NETWORK_LOG_FORMAT: 'json' },
    })
    assert.equal(verbose.code, 0)
    assert.deepEqual(JSON.parse(verbose.stdout.join('\n')), [])
    const records = jsonLines(verbose.stderr)
    assert.ok(
      records.some((record) =>
        record.logger === 'huly-network.rpc.client' && /connected to/.test(record.message)
      ),
      verbose.stderr.join('\n'),
    )
    const bad = await runCli(['agents', '--log-level', 'loud', '--network', address])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr.join('\n'), /--log-level must be one of trace, debug/)
  } finally {
    await serve.stop()
  }
})
