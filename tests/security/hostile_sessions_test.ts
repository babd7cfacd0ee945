// Break 3 of issue 14: sessions were unbounded. 20k hellos on one connection made
// 20k sessions; hellos were not rate limited; hellos with 1 MiB credentials were
// kept; and without keys a hello with another client's id knocked that client off.
import assert from 'node:assert/strict'
import { frames, type Header, Kind, PROTOCOL_VERSION } from '../../rpc/_frames.ts'
import { assertSurvived, AttackStage, sleep, transports } from './_attack.ts'

function hello(clientId: string, credentials: unknown = undefined): Uint8Array[] {
  return frames({
    kind: Kind.hello,
    version: PROTOCOL_VERSION,
    clientId,
    aliveMs: 3000,
    credentials,
    resume: false,
    instance: crypto.randomUUID(),
  })
}

/** Rejects the attacker received, by code. */
function rejectCodes(received: Header[]): Set<string> {
  return new Set(received.flatMap((h) => h.kind === Kind.reject ? [h.code] : []))
}

for (const transport of transports) {
  Deno.test(`[${transport}] 20 000 hellos on one connection hold one session at most, past the hello rate they are refused`, async () => {
    await using stage = await AttackStage.start(transport)
    const { socket: attacker, received } = stage.attacker()
    const report = await stage.measure(async () => {
      for (let i = 0; i < 20_000; i++) {
        attacker.send(hello(`attacker-${i}`))
        if (i % 2000 === 1999) await sleep(200)
      }
      await sleep(500)
    })
    assertSurvived('20k hellos on one connection', report, { rssGrowthMiB: 60, p99Ms: 100 })
    // The agent's client, the well-behaved client, and at most the attacker's one.
    assert.ok(await stage.metric('huly_network_sessions') <= 3)
    assert.ok(await stage.refused('hello-rate') > 19_000)
    assert.ok(rejectCodes(received).has('TRY_LATER'))
  })

  Deno.test(`[${transport}] hellos with 1 MiB of credentials are refused before they are decoded`, async () => {
    await using stage = await AttackStage.start(transport)
    const { socket: attacker, received } = stage.attacker()
    const credentials = 'x'.repeat(1024 * 1024)
    const report = await stage.measure(async () => {
      for (let i = 0; i < 200; i++) {
        attacker.send(hello(`fat-${i}`, credentials))
        await sleep(10)
      }
      await sleep(500)
    })
    assertSurvived('200 hellos of 1 MiB', report, { rssGrowthMiB: 150, p99Ms: 100 })
    assert.equal(await stage.refused('hello-bytes'), 200)
    assert.ok(rejectCodes(received).has('LIMIT_EXCEEDED'))
  })

  Deno.test(`[${transport}] past --max-sessions new sessions are refused and told to try later`, async () => {
    await using stage = await AttackStage.start(transport, ['--max-sessions', '6'])
    const attackers = Array.from({ length: 10 }, () => stage.dealer())
    const report = await stage.measure(async () => {
      attackers.forEach((attacker, i) => attacker.send(hello(`many-${i}`)))
      await sleep(1000)
    })
    assertSurvived('10 sessions past a cap of 6', report, { rssGrowthMiB: 30, p99Ms: 100 })
    assert.equal(await stage.metric('huly_network_sessions'), 6)
    assert.equal(await stage.refused('sessions'), 6)
  })

  Deno.test(`[${transport}] without keys a hello with a live client's id from another connection does not knock it off`, async () => {
    await using stage = await AttackStage.start(transport)
    const { socket: attacker, received } = stage.attacker()
    const report = await stage.measure(async () => {
      for (let i = 0; i < 10; i++) {
        attacker.send(hello('well-behaved'))
        await sleep(200)
      }
    })
    assertSurvived('hellos with a live id', report, { rssGrowthMiB: 30, p99Ms: 100 })
    assert.ok(await stage.refused('client-id') >= 1)
    assert.ok(rejectCodes(received).has('TRY_LATER'))
    assert.equal(await stage.metric('huly_network_sessions_dropped_total{reason="silent"}'), 0)
  })
}
