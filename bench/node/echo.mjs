// deno-lint-ignore-file no-console
// zeromq.js under Node: the baseline of bench/socket_echo.ts.
// Usage: node echo.mjs server | client <endpoint> <roundTrips> <latencySamples> | idle <seconds>
import { Dealer, Router } from 'zeromq'

const [mode, ...args] = process.argv.slice(2)
const payload = Buffer.alloc(32, 7)

async function server() {
  const router = new Router({ linger: 0 })
  await router.bind('tcp://127.0.0.1:0')
  console.log(JSON.stringify({ endpoint: router.lastEndpoint }))
  for await (const [peer, body] of router) await router.send([peer, body])
}

async function client(endpoint, roundTrips, samples) {
  const dealer = new Dealer({ linger: 0 })
  dealer.connect(endpoint)
  // Warm up, then 100 in flight.
  await dealer.send(payload)
  await dealer.receive()
  let started = performance.now()
  for (let i = 0; i < 100; i++) await dealer.send(payload)
  let sent = 100
  let received = 0
  while (received < roundTrips) {
    await dealer.receive()
    received++
    if (sent < roundTrips) {
      await dealer.send(payload)
      sent++
    }
  }
  const rps = roundTrips / ((performance.now() - started) / 1000)
  const latencies = []
  for (let i = 0; i < samples; i++) {
    started = performance.now()
    await dealer.send(payload)
    await dealer.receive()
    latencies.push((performance.now() - started) * 1000)
  }
  dealer.close()
  console.log(JSON.stringify({ rps, latencies }))
}

async function idle(seconds) {
  const router = new Router({ linger: 0 })
  await router.bind('tcp://127.0.0.1:0')
  const dealer = new Dealer({ linger: 0 })
  dealer.connect(router.lastEndpoint)
  await dealer.send(payload)
  const [peer] = await router.receive()
  await router.send([peer, payload])
  await dealer.receive()
  const receiving = (async () => {
    for await (const _ of router) { /* idle */ }
  })()
  await new Promise((resolve) => setTimeout(resolve, 500))
  const before = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const used = process.cpuUsage(before)
  console.log(JSON.stringify({ cpuSeconds: (used.user + used.system) / 1e6 }))
  router.close()
  dealer.close()
  await receiving.catch(() => {})
}

if (mode === 'server') await server()
else if (mode === 'client') await client(args[0], Number(args[1]), Number(args[2]))
else if (mode === 'idle') await idle(Number(args[0]))
else throw new Error(`unknown mode ${mode}`)
