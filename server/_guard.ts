// The coordinator's gate when keys are configured: the ZAP handler that admits only
// listed public keys, the handshake check, and the grant of each session.
import {
  audit,
  describeUse,
  mayUse,
  type PeerGrant,
  peerIdFor,
  requireAccess,
  seesEverything,
} from '../security/access.ts'
import type { ContainerRecord } from '../core/types.ts'
import { RefusalAudit } from '../security/refusal_audit.ts'
import { AuthorizationError } from '../common/errors.ts'
import type { Hello } from '../rpc/server_options.ts'
import type { RpcSession } from '../rpc/session.ts'
import type { ZapRequest, ZapVerdict } from '../rpc/zmq/types.ts'

/** The allow-list of public keys and what each may do; replaced as a whole on reload. */
export class AccessGuard {
  #grants = new Map<string, PeerGrant>()
  readonly #refusals = new RefusalAudit()

  constructor(peers: readonly PeerGrant[]) {
    this.setPeers(peers)
  }

  /**
   * Replaces the allow-list; returns the public keys whose grant went away or
   * changed, so their sessions can be ended and agents can forget them.
   */
  setPeers(peers: readonly PeerGrant[]): string[] {
    const previous = this.#grants
    this.#grants = new Map(peers.map((peer) => [peer.publicKey, peer]))
    const changed: string[] = []
    for (const [key, grant] of previous) {
      const next = this.#grants.get(key)
      if (next === undefined || JSON.stringify(next) !== JSON.stringify(grant)) changed.push(key)
    }
    return changed
  }

  /** The grant of a public key, if it is listed. */
  grant(publicKey: string): PeerGrant | undefined {
    return this.#grants.get(publicKey)
  }

  /** The ZAP handler: CURVE connections of listed keys only; the key becomes the User-Id. */
  readonly zap = (request: ZapRequest): ZapVerdict => {
    const key = request.publicKey
    if (request.mechanism === 'CURVE' && key !== undefined && this.#grants.has(key)) {
      return { userId: key }
    }
    this.#refusals.record(key ?? '', request.address, { mechanism: request.mechanism })
    return false
  }

  /** The handshake check: the connection's key must still be listed. */
  readonly authenticate = (hello: Hello): void => {
    if (!this.#grants.has(hello.userId ?? '')) {
      audit('refused', { publicKey: hello.userId ?? '', clientId: hello.clientId })
      throw new AuthorizationError('this key is not allowed on this network')
    }
  }

  /** The session id of an authenticated hello: the key's name and the client id. */
  readonly peerIdOf = (hello: Hello): string =>
    peerIdFor(this.#grants.get(hello.userId ?? '')!, hello.clientId)

  /** The grant of the peer behind `session`; an AuthorizationError once it is revoked. */
  of(session: RpcSession): PeerGrant {
    const grant = this.#grants.get(session.userId)
    if (grant === undefined) {
      throw new AuthorizationError(`the key of ${session.peerId} is no longer allowed`)
    }
    return grant
  }

  /** Throws (and audits) unless the peer behind `session` passes `allowed`. */
  check(session: RpcSession, allowed: (grant: PeerGrant) => boolean, action: string): void {
    const grant = this.of(session)
    requireAccess(allowed(grant), grant, action)
  }

  /** May the caller use this container? (On the hot path: no work when it may.) */
  checkUse(
    session: RpcSession,
    container: Pick<ContainerRecord, 'kind' | 'labels'> & { uuid?: string },
  ): void {
    const grant = this.of(session)
    if (mayUse(grant, container.kind, container.labels)) return
    requireAccess(false, grant, describeUse(container))
  }

  /** The containers the caller may see. */
  visible(session: RpcSession, records: ContainerRecord[]): ContainerRecord[] {
    const grant = this.of(session)
    if (seesEverything(grant)) return records
    return records.filter((record) => mayUse(grant, record.kind, record.labels))
  }
}
