// The gate of an agent endpoint that encrypts: it admits only keys the coordinator
// knows (asked over the agent's authenticated link, the answer kept a few seconds
// for reconnect storms) and applies the same grant to every direct request. The
// coordinator tells agents when keys are revoked, and their sessions end then; after
// a lost link to the coordinator, the keys of live sessions are asked about again.
import {
  describeUse,
  mayUse,
  type PeerGrant,
  peerIdFor,
  requireAccess,
} from '../security/access.ts'
import { RefusalAudit } from '../security/refusal_audit.ts'
import { AuthorizationError } from '../common/errors.ts'
import type { ContainerRecord } from '../core/types.ts'
import type { Hello } from '../rpc/server_options.ts'
import type { RpcSession } from '../rpc/session.ts'
import type { ZapRequest, ZapVerdict } from '../rpc/zmq/types.ts'

/** Asks the coordinator who a public key is; `null` when it is not allowed. */
export type IdentifyPeer = (publicKey: string) => Promise<PeerGrant | null>

/** How long an answer of the coordinator admits new connections of that key. */
const ANSWER_MS = 5_000

/** The grants of the peers connected to one agent endpoint. */
export class EndpointGuard {
  readonly #known = new Map<string, { grant: PeerGrant; at: number }>()
  readonly #identify: IdentifyPeer
  readonly #refusals = new RefusalAudit()

  constructor(identify: IdentifyPeer) {
    this.#identify = identify
  }

  /** The ZAP handler: each new CURVE connection's key is checked with the coordinator. */
  readonly zap = async (request: ZapRequest): Promise<ZapVerdict> => {
    const key = request.publicKey
    const known = key === undefined ? undefined : this.#known.get(key)
    const grant = request.mechanism !== 'CURVE' || key === undefined
      ? null
      : known !== undefined && Date.now() - known.at < ANSWER_MS
      ? known.grant
      : await this.#identify(key)
    if (grant === null || key === undefined) {
      this.#refusals.record(key ?? '', request.address, { where: 'agent endpoint' })
      return false
    }
    this.#known.set(key, { grant, at: known?.grant === grant ? known.at : Date.now() })
    return { userId: key }
  }

  /** The handshake check: the connection's key was admitted and not revoked since. */
  readonly authenticate = (hello: Hello): void => {
    if (!this.#known.has(hello.userId ?? '')) {
      throw new AuthorizationError('this key is not allowed on this agent')
    }
  }

  /** The session id of an authenticated hello, as the coordinator gives it. */
  readonly peerIdOf = (hello: Hello): string =>
    peerIdFor(this.#known.get(hello.userId ?? '')!.grant, hello.clientId)

  /** Throws (and audits) unless the peer behind `session` may use `record`. */
  checkUse(session: RpcSession, record: ContainerRecord | undefined): void {
    if (record === undefined) return
    const grant = this.#known.get(session.userId)?.grant
    if (grant === undefined) throw new AuthorizationError('this key is no longer allowed')
    if (!mayUse(grant, record.kind, record.labels)) requireAccess(false, grant, describeUse(record))
  }

  /** Forgets revoked keys; the caller ends their sessions. */
  revoke(publicKeys: readonly string[]): void {
    for (const key of publicKeys) this.#known.delete(key)
  }

  /**
   * Asks the coordinator again about `publicKeys` (a revocation may have been
   * missed while the link was down); forgets and returns those no longer allowed.
   */
  async recheck(publicKeys: readonly string[]): Promise<string[]> {
    const gone: string[] = []
    for (const key of new Set(publicKeys)) {
      const grant = await this.#identify(key)
      if (grant === null) gone.push(key)
      else this.#known.set(key, { grant, at: Date.now() })
    }
    this.revoke(gone)
    return gone
  }
}
