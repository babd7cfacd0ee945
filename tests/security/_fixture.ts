// A coordinator with keys in this process, key pairs per role, and clients that use
// them: the pieces of the security tests. Everything listens on 127.0.0.1.
import type { LogRecord } from '@logtape/logtape'
import { createNetworkClient, type NetworkClient } from '../../client/mod.ts'
import {
  type ContainerFactory,
  type ContainerStart,
  NetworkImpl,
  type PeerGrant,
  type PeerRole,
  type StartOptions,
  TickManagerImpl,
} from '../../core/mod.ts'
import { type CurveKeyPair, curveKeyPair } from '../../rpc/mod.ts'
import { NetworkServer, type NetworkServerOptions } from '../../server/mod.ts'
import { withLogs } from '../usability/_logs.ts'

export { within } from '../_within.ts'

/** A peer of the tests: its key pair and its grant. */
export interface TestPeer {
  keys: CurveKeyPair
  grant: PeerGrant
}

/** A new key pair with a grant. */
export function peer(
  name: string,
  role: PeerRole,
  limits: { kinds?: string[]; labels?: string[] } = {},
): TestPeer {
  const keys = curveKeyPair()
  return { keys, grant: { name, publicKey: keys.publicKey, role, ...limits } }
}

/** An in-process coordinator on a free port, with short timings. */
export class TestCoordinator implements AsyncDisposable {
  readonly keys: CurveKeyPair
  readonly clock = new TickManagerImpl(50)
  readonly network: NetworkImpl
  readonly server: NetworkServer
  readonly #clients: NetworkClient[] = []

  /**
   * With `peers`, CURVE and the allow-list are on; without, the server is plain.
   * `keys` are the coordinator's (a new pair when absent).
   */
  constructor(
    peers: TestPeer[] | undefined,
    options: NetworkServerOptions = {},
    keys: CurveKeyPair = curveKeyPair(),
  ) {
    this.keys = keys
    this.clock.start()
    this.network = new NetworkImpl(this.clock, {
      timeouts: { pingIntervalMs: 250, aliveTimeoutMs: 1500, unusedContainerTimeoutMs: 1000 },
    })
    this.server = new NetworkServer(this.network, this.clock, {
      port: 0,
      ...options,
      security: peers && {
        secretKey: this.keys.secretKey,
        peers: peers.map((peer) => peer.grant),
      },
    })
  }

  /** `127.0.0.1:port` of the coordinator. */
  get address(): string {
    return this.server.endpoint.replace('tcp://', '')
  }

  /**
   * A client with `keys` (none: plain text), trusting `serverKey` (the
   * coordinator's by default); closed with the coordinator.
   */
  async client(
    keys?: CurveKeyPair,
    serverKey: string = this.keys.publicKey,
    address: string = this.address,
  ): Promise<NetworkClient> {
    const client = await createNetworkClient(address, {
      timeouts: { pingIntervalMs: 250, aliveTimeoutMs: 1500, requestTimeoutMs: 5000 },
      socket: keys && { curve: { serverKey, ...keys } },
    })
    this.#clients.push(client)
    return client
  }

  /** Closes every client it made, then the server. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#clients.map((client) => client.close().catch(() => {})))
    await this.server.close()
    await this.network.close()
    this.clock.stop()
  }
}

/**
 * Containers that answer `echo` with their data, `whoami` with their labels and
 * `caller` with the client id they were called by.
 */
export const echoFactory: ContainerFactory = (options: StartOptions): Promise<ContainerStart> =>
  Promise.resolve({
    uuid: options.uuid,
    container: {
      request: (operation, data, clientId) =>
        Promise.resolve(
          operation === 'whoami' ? options.labels : operation === 'caller' ? clientId : data,
        ),
    },
  })

/** Whether the client connects within `ms`. */
export async function connects(client: NetworkClient, ms = 1500): Promise<boolean> {
  try {
    await client.waitConnection(ms)
    return true
  } catch {
    return false
  }
}

/** Runs `fn` with the audit log captured; the records it wrote are passed to it. */
export function withAuditLog(fn: (records: LogRecord[]) => Promise<void>): Promise<void> {
  return withLogs(fn, 'info', ['huly-network', 'audit'])
}
