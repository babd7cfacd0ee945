import assert from 'node:assert/strict'
import { encode } from '../../rpc/codec.ts'
import { DealerSocket } from '../../rpc/mod.ts'
import { type Proc, startNetwork, within } from './_process.ts'

/** Every kind of bad input we can think of, as ZeroMQ messages. */
function garbageMessages(): Uint8Array[][] {
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n))
  return [
    [random(1)],
    [random(64), random(64), random(64)],
    [new Uint8Array([0xc1])],
    [encode('not an array')],
    [encode([5, 1, 'network.get', 1000, null])], // a request before any handshake
    [encode([5, 'id', 'x', 1, null]), encode(null)],
    [encode([99, 7, 'unknown kind'])],
    [encode([1, 0, 1])], // a hello missing fields
    [encode([1, 0, 1, '', 3000, null, false, 'i'])], // a hello with an empty client id
    [encode([6, 12345]), encode('a reply nobody asked for')],
    [new Uint8Array(0)],
    [encode([5, 3]), new Uint8Array(5 * 1024 * 1024)],
  ]
}

/** Sends garbage through ZeroMQ and raw TCP at `endpoint`. */
async function attack(endpoint: string): Promise<void> {
  const dealer = new DealerSocket({ linger: 0 })
  dealer.connect(endpoint)
  for (let round = 0; round < 20; round++) {
    for (const message of garbageMessages()) dealer.send(message)
  }
  const [, host, port] = endpoint.match(/^tcp:\/\/(.+):(\d+)$/)!
  for (let i = 0; i < 10; i++) {
    const tcp = await Deno.connect({ hostname: host, port: Number(port) })
    await tcp.write(crypto.getRandomValues(new Uint8Array(1024))).catch(() => 0)
    tcp.close()
  }
  await new Promise((resolve) => setTimeout(resolve, 300))
  await dealer.close()
}

Deno.test('garbage sent to the coordinator and to an agent endpoint crashes neither, and a working client is not disturbed', async () => {
  let coordinator: Proc
  {
    await using net = await startNetwork({ agents: ['agent-1'], client: {} })
    const { endpoint, client } = net
    coordinator = net.coordinator
    const ref = await client.get('echo')
    const connection = await ref.connect()
    assert.equal(ref.endpoint.kind, 'routed')
    const agentEndpoint = (ref.endpoint as { address: string }).address

    let stop = false
    let answered = 0
    const traffic = (async () => {
      while (!stop) {
        assert.equal(await ref.request('echo', answered), answered)
        assert.equal(await connection.request('echo', answered), answered)
        answered++
      }
    })()
    await within(30_000, 'attacks', () => Promise.all([attack(endpoint), attack(agentEndpoint)]))
    const before = answered
    await new Promise((resolve) => setTimeout(resolve, 300))
    stop = true
    await traffic
    assert.ok(answered > before, 'requests kept flowing after the attack')
    assert.deepEqual((await client.agents()).map((a) => a.agentId), ['agent-1'])
    assert.equal(await ref.request('echo', 'still here'), 'still here')
    await ref.close()
  }
  const status = await coordinator.done
  assert.equal(status.signal, null, 'the coordinator exited by itself, not by a crash signal')
  assert.equal(status.code, 0)
})
