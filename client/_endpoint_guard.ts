// The gate of an agent endpoint that encrypts: it admits only keys the coordinator
// knows (asked once per new connection, over the agent's authenticated link) and
// applies the same grant to every direct request. The coordinator tells agents
// when keys are revoked; their sessions end then.
import { audit, mayUse, type PeerGrant, requireAccess } from '../core/access.ts'
import { AuthorizationError } from '../core/errors.ts'
import type { ContainerRecord } from '../core/types.ts'
import type { Hello } from '../rpc/server.ts'
import type { RpcSession } from '../rpc/session.ts'
import type { ZapRequest, ZapVerdict } from '../rpc/zmq/mod.ts'

/** Asks the coordinator who a public key is; `null` when it is not allowed. */
export type IdentifyPeer = (publicKey: string) => Promise<PeerGrant | null>

/** The grants of the peers connected to one agent endpoint. */
export class EndpointGuard {
  readonly #known = new Map<string, PeerGrant>()
  readonly #identify: IdentifyPeer

  constructor(identify: IdentifyPeer) {
    this.#identify = identify
  }

  /** The ZAP handler: each new CURVE connection's key is checked with the coordinator. */
  readonly zap = async (request: ZapRequest): Promise<ZapVerdict> => {
    const key = request.publicKey
    const grant = request.mechanism === 'CURVE' && key !== undefined
      ? await this.#identify(key)
      : null
    if (grant === null || key === undefined) {
      audit('refused', { publicKey: key ?? '', address: request.address, at: 'agent endpoint' })
      return false
    }
    this.#known.set(key, grant)
    return { userId: key }
  }

  /** The handshake check: the connection's key was admitted and not revoked since. */
  readonly authenticate = (hello: Hello): void => {
    if (!this.#known.has(hello.userId ?? '')) {
      throw new AuthorizationError('this key is not allowed on this agent')
    }
  }

  /** Throws (and audits) unless the peer behind `session` may use `record`. */
  checkUse(session: RpcSession, record: ContainerRecord | undefined): void {
    if (record === undefined) return
    const grant = this.#known.get(session.userId)
    if (grant === undefined) throw new AuthorizationError('this key is no longer allowed')
    requireAccess(
      mayUse(grant, record.kind, record.labels),
      grant,
      `use ${record.kind} container ${record.uuid} [${record.labels.join(', ')}]`,
    )
  }

  /** Forgets revoked keys; the caller ends their sessions. */
  revoke(publicKeys: readonly string[]): void {
    for (const key of publicKeys) this.#known.delete(key)
  }
}
