// Break 1 of issue 14: a batch frame of 210k empty messages, sent before any
// handshake, stalled the coordinator for seconds and made it drop its agents.
import assert from 'node:assert/strict'
import { assertSurvived, AttackStage, sleep, transports } from './_attack.ts'

/** A batch blob of `count` messages of one empty frame each (5 bytes per message). */
function batchBomb(count: number): Uint8Array {
  const blob = new Uint8Array(1 + 5 * count)
  blob[0] = 0xc1
  for (let i = 0; i < count; i++) blob[1 + 5 * i] = 1
  return blob
}

for (const transport of transports) {
  Deno.test(`[${transport}] a batch bomb before the handshake is refused whole: no stall, no agent dropped`, async () => {
    await using stage = await AttackStage.start(transport)
    const { socket: attacker, received: refusals } = stage.attacker()
    const bomb = batchBomb(210_000) // 1 MiB
    const report = await stage.measure(async () => {
      for (let i = 0; i < 30; i++) {
        attacker.send([bomb])
        await sleep(100)
      }
    })
    assertSurvived('batch bomb, 30 x 1 MiB', report, { rssGrowthMiB: 150, p99Ms: 100 })
    assert.ok(
      refusals.some((h) => h.kind === 12 && h.name === 'LimitExceededError'),
      'the attacker was told its batch was refused',
    )
    assert.ok(await stage.refused('batch') >= 1)
  })

  Deno.test(`[${transport}] a batch of 257 messages is refused whole, and one of 256 is split`, async () => {
    await using stage = await AttackStage.start(transport)
    const attacker = stage.dealer()
    attacker.send([batchBomb(257)])
    await sleep(300)
    assert.equal(await stage.refused('batch'), 1)
    attacker.send([batchBomb(256)])
    await sleep(300)
    assert.equal(await stage.refused('batch'), 1)
  })
}
