// deno-lint-ignore-file no-console -- an example shows its results
/**
 * Keys and tenant isolation: a coordinator that admits only listed CURVE keys, an
 * agent whose endpoint encrypts too, and two tenants each limited to its own
 * `workspace` label. Everything on the wire is encrypted.
 *
 *     deno run --allow-net examples/secure_tenants.ts
 */
import { createNetworkClient, type NetworkClient } from '@huly/network/client'
import {
  AuthorizationError,
  type ContainerFactory,
  NetworkImpl,
  type PeerGrant,
  TickManagerImpl,
} from '@huly/network/core'
import { type CurveKeyPair, curveKeyPair } from '@huly/network/rpc'
import { NetworkServer } from '@huly/network/server'

// In production: `deno task keygen NAME` per process, and an access file (see docs/security.md).
const coordinatorKeys = curveKeyPair()
const keys: Record<string, CurveKeyPair> = {}
const grant = (name: string, role: PeerGrant['role'], labels?: string[]): PeerGrant => {
  keys[name] = curveKeyPair()
  return { name, publicKey: keys[name].publicKey, role, ...(labels && { labels }) }
}
const peers = [
  grant('worker', 'agent'),
  grant('frontend-42', 'client', ['workspace:42']),
  grant('frontend-7', 'client', ['workspace:7']),
]

const clock = new TickManagerImpl(20)
clock.start()
const network = new NetworkImpl(clock)
const server = new NetworkServer(network, clock, {
  port: 0,
  security: { secretKey: coordinatorKeys.secretKey, peers },
})

/** A client of the network with one of the listed key pairs. */
function connect(pair: CurveKeyPair): Promise<NetworkClient> {
  return createNetworkClient(server.endpoint, {
    socket: { curve: { serverKey: coordinatorKeys.publicKey, ...pair } },
  })
}

// A workspace container answers with who asked: `<key name>/<client id>`.
const workspace: ContainerFactory = (options) =>
  Promise.resolve({
    uuid: options.uuid,
    container: {
      request: (_operation, _data, clientId) =>
        Promise.resolve(`${options.labels.join(',')} asked by ${clientId?.split('/')[0]}`),
    },
  })

const agent = await connect(keys.worker)
await agent.serveAgent('127.0.0.1:0', { workspace }, { agentId: 'worker-1' })
const tenant42 = await connect(keys['frontend-42'])
const tenant7 = await connect(keys['frontend-7'])

const own = await tenant42.get('workspace', { labels: ['workspace:42'] })
console.log(await own.request('hello'))
const direct = await own.connect() // straight to the agent's encrypted endpoint
console.log(`direct: ${await direct.request('hello')}`)

const theirs = await tenant7.get('workspace', { labels: ['workspace:7'] })
try {
  await tenant42.request(theirs.uuid, 'hello')
} catch (error) {
  if (!(error instanceof AuthorizationError)) throw error
  console.log(`frontend-42 -> workspace:7: ${error.name} (${error.code})`)
}
console.log(`frontend-42 sees ${(await tenant42.list()).length} container(s)`)

const stranger = await createNetworkClient(server.endpoint, {
  socket: { curve: { serverKey: coordinatorKeys.publicKey, ...curveKeyPair() } },
})
const admitted = await stranger.waitConnection(1000).then(() => true, () => false)
console.log(`an unknown key is admitted: ${admitted}`)

await stranger.close()
await Promise.all([tenant42.close(), tenant7.close()])
await agent.close()
await server.close()
await network.close()
clock.stop()
