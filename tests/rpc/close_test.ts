import assert from 'node:assert/strict'
import { DealerSocket, type NetworkError, RouterSocket } from '../../rpc/mod.ts'
import { bytes, closeAll, closeAtEnd, waitFor, within } from './_helpers.ts'

/** A ROUTER that echoes every message; `echoed` counts them. */
function echoRouter(errors: NetworkError[] = []): RouterSocket & { echoed: number } {
  const router = new RouterSocket({
    handover: true,
    onError: (error) => errors.push(error),
    onMessage: ([peer, ...body]) => {
      counted.echoed++
      router.send([peer, ...body])
    },
  })
  const counted = Object.assign(router, { echoed: 0 })
  return counted
}

/** A DEALER that keeps `inFlight` requests going and counts the replies. */
function busyDealer(endpoint: string, routingId: string, inFlight = 50) {
  const state = { replies: 0, stop: false }
  const dealer: DealerSocket = new DealerSocket({
    routingId,
    onMessage: () => {
      state.replies++
      if (!state.stop && !dealer.closed) dealer.send([bytes('work')])
    },
  })
  dealer.connect(endpoint)
  for (let i = 0; i < inFlight; i++) dealer.send([bytes('work')])
  return { dealer, state }
}

Deno.test('closing a DEALER while messages flow leaves the ROUTER working, and it can reconnect', async () => {
  const errors: NetworkError[] = []
  const router = echoRouter(errors)
  const endpoint = router.bind('tcp://127.0.0.1:0')
  const a = busyDealer(endpoint, 'a')
  const b = busyDealer(endpoint, 'b')
  let again: ReturnType<typeof busyDealer> | undefined
  try {
    await waitFor(() => a.state.replies > 1000 && b.state.replies > 1000, 10_000, 'traffic')
    await within(2000, 'closing a busy DEALER', () => a.dealer.close())
    const before = b.state.replies
    await waitFor(() => b.state.replies > before + 1000, 10_000, 'b keeps working')
    again = busyDealer(endpoint, 'a')
    await waitFor(() => again!.state.replies > 1000, 10_000, 'a reconnected')
    for (const error of errors) assert.equal(error.code, 'PEER_UNREACHABLE')
  } finally {
    await closeAll([a.dealer, b.dealer, again?.dealer, router])
  }
})

Deno.test('closing the ROUTER while messages flow: the DEALER keeps going once a ROUTER is back', async () => {
  let router = echoRouter()
  const endpoint = router.bind('tcp://127.0.0.1:0')
  const client = busyDealer(endpoint, 'client')
  await using _sockets = closeAtEnd(client.dealer, router)
  await waitFor(() => client.state.replies > 1000, 10_000, 'traffic')
  await within(2000, 'closing a busy ROUTER', () => router.close())
  // The DEALER still accepts messages while its peer is away.
  for (let i = 0; i < 100; i++) client.dealer.send([bytes('while away')])
  const before = client.state.replies
  router = echoRouter()
  await within(5000, 'rebinding the same port', async () => {
    for (;;) {
      try {
        router.bind(endpoint)
        return
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  })
  // Messages written to the dying connection are lost (a dead TCP peer does not
  // take them), so the workload is primed again until the new ROUTER echoes.
  const primer = setInterval(() => client.dealer.send([bytes('after')]), 50)
  const back = router
  try {
    await waitFor(() => back.echoed > 0, 10_000, 'first message to the new ROUTER')
  } finally {
    clearInterval(primer)
  }
  await waitFor(() => back.echoed > 1000, 10_000, 'traffic after reconnect')
  assert.ok(client.state.replies > before + 1000)
})

Deno.test('closing an idle socket while the reactor waits returns at once', async () => {
  const router = new RouterSocket()
  router.bind('tcp://127.0.0.1:0')
  const dealer = new DealerSocket()
  dealer.connect('tcp://127.0.0.1:1')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const started = performance.now()
  await closeAll([router, dealer])
  assert.ok(performance.now() - started < 500, 'close took too long')
})

Deno.test('closing with messages queued drops them and does not hang, even with linger', async () => {
  const dealer = new DealerSocket({ sendHighWaterMark: 10, linger: 200 })
  dealer.connect('tcp://127.0.0.1:1')
  for (let i = 0; i < 10_000; i++) dealer.send([new Uint8Array(100)])
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.ok(dealer.pendingSends > 9_000, `pending ${dealer.pendingSends}`)
  await closeAll([dealer])
  assert.equal(dealer.pendingSends, 0)
})

Deno.test('closing inside onMessage, with more messages ready, stops delivery', async () => {
  const router = echoRouter()
  let delivered = 0
  const dealer: DealerSocket = new DealerSocket({
    onMessage: () => {
      delivered++
      dealer.close()
    },
  })
  await using _sockets = closeAtEnd(dealer, router)
  dealer.connect(router.bind('tcp://127.0.0.1:0'))
  for (let i = 0; i < 100; i++) dealer.send([bytes(String(i))])
  await waitFor(() => dealer.closed, 5000, 'closed from the callback')
  await within(2000, 'close from callback', () => dealer.close())
  assert.equal(delivered, 1)
})

async function runFixture(mode: string): Promise<{ code: number; stderr: string }> {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      'run',
      '--allow-read',
      '--allow-ffi',
      '--allow-net',
      '--allow-env',
      new URL('./fixtures/exit.ts', import.meta.url).pathname,
      mode,
    ],
    stdout: 'piped',
    stderr: 'piped',
  })
  const child = command.spawn()
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  try {
    const output = await child.output()
    return { code: output.code, stderr: new TextDecoder().decode(output.stderr) }
  } finally {
    clearTimeout(timer)
  }
}

Deno.test('Deno.exit with open sockets and traffic in flight exits cleanly', async () => {
  const { code, stderr } = await runFixture('exit')
  assert.equal(code, 0, stderr)
})

Deno.test('a process whose sockets are all closed ends by itself', async () => {
  const { code, stderr } = await runFixture('close')
  assert.equal(code, 0, stderr)
})
