// The cost of CURVE: one MESSAGE box (seal + open with the precomputed key) of
// 100 B, 1 KiB and 4 KiB with tweetnacl and with noble-ciphers (they cross near
// 1 KiB, so `rpc/zmtp/_nacl.ts` uses each where it is faster), a whole handshake
// of our two mechanisms in memory, and our encode + decode of one message.
import nacl from 'tweetnacl'
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js'
import { curveClientMechanism, curveServerMechanism } from '../rpc/zmtp/_curve.ts'
import type { Mechanism, MechanismContext } from '../rpc/zmtp/_mechanism.ts'

const ours = nacl.box.keyPair()
const theirs = nacl.box.keyPair()
const sharedKey = nacl.box.before(theirs.publicKey, ours.secretKey)
const HEADER = 16

for (const size of [100, 1024, 4096]) {
  const payload = new Uint8Array(size).fill(7)
  const nonce = new Uint8Array(24)
  const group = `box ${size} B`

  // Both as MessageBoxes uses them: flags + payload copied in, the box copied after the header.
  Deno.bench(`tweetnacl: seal and open a ${size} B message`, { group, baseline: true }, () => {
    const plain = new Uint8Array(1 + size)
    plain.set(payload, 1)
    const sealed = nacl.secretbox(plain, nonce, sharedKey)
    const body = new Uint8Array(HEADER + sealed.length)
    body.set(sealed, HEADER)
    if (nacl.secretbox.open(body.subarray(HEADER), nonce, sharedKey) === null) throw new Error()
  })

  Deno.bench(`noble: seal and open a ${size} B message`, { group }, () => {
    const plain = new Uint8Array(1 + size)
    plain.set(payload, 1)
    const sealed = xsalsa20poly1305(sharedKey, nonce).encrypt(plain)
    const body = new Uint8Array(HEADER + sealed.length)
    body.set(sealed, HEADER)
    xsalsa20poly1305(sharedKey, nonce).decrypt(body.subarray(HEADER))
  })
}

const server = nacl.box.keyPair()
const client = nacl.box.keyPair()
const context = (asServer: boolean): MechanismContext => ({
  asServer,
  metadata: new Map([['Socket-Type', new TextEncoder().encode(asServer ? 'ROUTER' : 'DEALER')]]),
  authenticate: () => Promise.resolve({ userId: '' }),
})

async function connectedPair(): Promise<{ client: Mechanism; server: Mechanism }> {
  const c: Mechanism = curveClientMechanism(context(false), {
    serverKey: server.publicKey,
    publicKey: client.publicKey,
    secretKey: client.secretKey,
  })
  const s: Mechanism = curveServerMechanism(context(true), server)
  const [hello] = c.start().send
  s.start()
  const [welcome] = (await s.receive(hello)).send
  const [initiate] = (await c.receive(welcome)).send
  const [ready] = (await s.receive(initiate)).send
  const done = await c.receive(ready)
  if (!done.ready) throw new Error(done.error)
  return { client: c, server: s }
}

Deno.bench('a whole CURVE handshake, both sides', { group: 'handshake' }, async () => {
  await connectedPair()
})

const connected = await connectedPair()
for (const size of [100, 1024, 4096]) {
  const payload = new Uint8Array(size).fill(7)
  Deno.bench(`our mechanism: encode and decode a ${size} B message`, { group: 'mechanism' }, () => {
    connected.server.decode!(connected.client.encode!(0, payload))
  })
}
