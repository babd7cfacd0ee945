// Break 2 of issue 14: the size limit was checked per frame, so a multipart message
// of 60 MiB frames took the coordinator's RSS past 4 GiB.
import assert from 'node:assert/strict'
import { assertSurvived, AttackStage, sleep, transports } from './_attack.ts'

const MiB = 1024 * 1024

for (const transport of transports) {
  Deno.test(`[${transport}] a message of many frames past 16 MiB in all is refused, and a larger frame cuts the connection`, async () => {
    await using stage = await AttackStage.start(transport)
    const { socket: attacker, received: refusals } = stage.attacker()
    const frame = new Uint8Array(6 * MiB)
    const report = await stage.measure(async () => {
      for (let i = 0; i < 10; i++) {
        attacker.send([frame, frame, frame]) // 18 MiB in three frames
        await sleep(200)
      }
      // Past twice the limit: the connection is cut before the frame is buffered.
      const cut = stage.dealer()
      cut.send([new Uint8Array(40 * MiB)])
      await sleep(500)
      await cut.close()
    })
    assertSurvived('multipart 10 x 18 MiB', report, { rssGrowthMiB: 250, p99Ms: 250 })
    assert.ok(refusals.some((h) => h.kind === 12 && h.name === 'LimitExceededError'))
    // zmtp also counts the connection it cut; libzmq cuts it without a word.
    assert.equal(await stage.refused('message-bytes'), transport === 'zmtp' ? 11 : 10)
  })
}
