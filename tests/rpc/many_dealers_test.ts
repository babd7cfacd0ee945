import assert from 'node:assert/strict'
import { DealerSocket, type NetworkError, RouterSocket } from '../../rpc/mod.ts'
import { bytes, closeAtEnd, text, waitFor } from './_helpers.ts'

const DEALERS = 200
const MESSAGES_EACH = 50

Deno.test('200 DEALERs on one ROUTER: every reply reaches the peer it is meant for', async () => {
  const errors: NetworkError[] = []
  const wrongSender: string[] = []
  const router = new RouterSocket({
    onError: (error) => errors.push(error),
    onMessage: ([peer, owner, seq]) => {
      if (text(peer) !== text(owner)) wrongSender.push(`${text(peer)} sent as ${text(owner)}`)
      router.send([peer, owner, seq])
    },
  })
  const dealers: DealerSocket[] = []
  const problems: string[] = []
  const received = new Array<number>(DEALERS).fill(0)
  await using _sockets = closeAtEnd(...dealers, router)
  const endpoint = router.bind('tcp://127.0.0.1:0')
  for (let i = 0; i < DEALERS; i++) {
    const name = `dealer-${i}`
    const dealer = new DealerSocket({
      routingId: name,
      onError: (error) => errors.push(error),
      onMessage: ([owner, seq]) => {
        if (text(owner) !== name) problems.push(`${name} got a reply for ${text(owner)}`)
        if (Number(text(seq)) !== received[i]) problems.push(`${name}: out of order`)
        received[i]++
      },
    })
    dealers.push(dealer)
    dealer.connect(endpoint)
  }
  for (let seq = 0; seq < MESSAGES_EACH; seq++) {
    dealers.forEach((dealer, i) => dealer.send([bytes(`dealer-${i}`), bytes(String(seq))]))
  }
  await waitFor(
    () => received.every((count) => count === MESSAGES_EACH) || problems.length > 0,
    30_000,
    'all replies',
  )
  assert.deepEqual(problems.slice(0, 5), [])
  assert.deepEqual(wrongSender.slice(0, 5), [])
  assert.deepEqual(errors, [])
  assert.deepEqual(received, new Array(DEALERS).fill(MESSAGES_EACH))
})
