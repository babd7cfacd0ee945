/**
 * Access control: who a peer is (a name and a role, bound to its CURVE public
 * key) and what it may do, and the audit log. Rules only, no sockets: the
 * coordinator and agent endpoints apply the same ones.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import { AuthorizationError } from '../common/errors.ts'
import type { ContainerKind } from '../core/types.ts'

const auditLogger = getLogger(['huly-network', 'audit'])

/**
 * What a peer is allowed to be: an `agent` registers agents (of its `kinds`), a
 * `client` gets, requests and connects to containers (of its `kinds`, carrying
 * all its `labels`), an `admin` may do everything.
 *
 * @example
 * ```ts
 * import type { PeerRole } from '@huly/network/core'
 * const role: PeerRole = 'client'
 * ```
 */
export type PeerRole = 'agent' | 'client' | 'admin'

/**
 * One known peer: its name (for logs and audits), its CURVE public key and its
 * rights.
 *
 * @example
 * ```ts
 * import type { PeerGrant } from '@huly/network/core'
 * const tenant: PeerGrant = {
 *   name: 'frontend-42',
 *   publicKey: 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7',
 *   role: 'client',
 *   labels: ['workspace:42'],
 * }
 * ```
 */
export interface PeerGrant {
  /** A name for logs and audit records. */
  name: string
  /** Its CURVE public key, 40 Z85 characters. */
  publicKey: string
  /** What it is. */
  role: PeerRole
  /** Kinds it may register (agents) or use (clients); every kind when absent. */
  kinds?: string[]
  /** Labels every container it uses must carry (clients); none when absent. */
  labels?: string[]
}

/**
 * Whether `grant` may register an agent offering `kinds`.
 *
 * @example
 * ```ts
 * import type { PeerGrant } from '@huly/network/core'
 * import { mayRegister } from '@huly/network/internal'
 * const agent: PeerGrant = { name: 'a', publicKey: 'k', role: 'agent', kinds: ['echo'] }
 * console.assert(mayRegister(agent, ['echo']) && !mayRegister(agent, ['shell']))
 * ```
 */
export function mayRegister(grant: PeerGrant, kinds: readonly string[]): boolean {
  if (grant.role === 'admin') return true
  if (grant.role !== 'agent') return false
  return kinds.every((kind) => kindAllowed(grant, kind))
}

/**
 * Whether `grant` may use (get, request, connect to) a container of `kind` with
 * `labels`.
 *
 * @example
 * ```ts
 * import type { PeerGrant } from '@huly/network/core'
 * import { mayUse } from '@huly/network/internal'
 * const tenant: PeerGrant = { name: 't', publicKey: 'k', role: 'client', labels: ['workspace:42'] }
 * console.assert(mayUse(tenant, 'session', ['workspace:42', 'user:1']))
 * console.assert(!mayUse(tenant, 'session', ['workspace:7']))
 * ```
 */
export function mayUse(grant: PeerGrant, kind: string, labels: readonly string[]): boolean {
  if (grant.role === 'admin') return true
  if (grant.role !== 'client') return false
  return kindAllowed(grant, kind) && (grant.labels ?? []).every((label) => labels.includes(label))
}

/**
 * Whether `grant` sees everything (an admin, or a client with no kind or label
 * limit), so listings and events need no filtering for it.
 *
 * @example
 * ```ts
 * import { seesEverything } from '@huly/network/internal'
 * console.assert(seesEverything({ name: 'ops', publicKey: 'k', role: 'admin' }))
 * ```
 */
export function seesEverything(grant: PeerGrant): boolean {
  return grant.role === 'admin' ||
    (grant.role === 'client' && grant.kinds === undefined && grant.labels === undefined)
}

/**
 * How an audit record and an error name the use of a container.
 *
 * @example
 * ```ts
 * import { describeUse } from '@huly/network/internal'
 * console.assert(
 *   describeUse({ uuid: 'c7', kind: 'echo', labels: ['workspace:7'] }) ===
 *     'use echo container c7 [workspace:7]',
 * )
 * ```
 */
export function describeUse(container: { uuid?: string; kind: string; labels: string[] }): string {
  return `use ${container.kind} container ${container.uuid ?? ''} [${container.labels.join(', ')}]`
}

/**
 * The client id a network with keys gives a peer's session: its key's name, a
 * slash, and the client id it chose. Containers see this id, so the part before
 * the first `/` names the authenticated peer, the same whether a request came
 * through the coordinator or straight to an agent endpoint.
 *
 * @example
 * ```ts
 * import { peerIdFor } from '@huly/network/internal'
 * const grant = { name: 'frontend-42', publicKey: 'k', role: 'client' } as const
 * console.assert(peerIdFor(grant, 'c1') === 'frontend-42/c1')
 * ```
 */
export function peerIdFor(grant: PeerGrant, clientId: string): string {
  return `${grant.name}/${clientId}`
}

/**
 * Throws an {@link AuthorizationError} naming the peer and the action unless
 * `allowed`.
 *
 * @example
 * ```ts
 * import { requireAccess } from '@huly/network/internal'
 * requireAccess(true, { name: 'ops', publicKey: 'k', role: 'admin' }, 'get session')
 * ```
 */
export function requireAccess(allowed: boolean, grant: PeerGrant, action: string): void {
  if (allowed) return
  audit('denied', { peer: grant.name, role: grant.role, publicKey: grant.publicKey, action })
  throw new AuthorizationError(`${grant.name} (${grant.role}) may not ${action}`)
}

/**
 * Writes an audit record (category `["huly-network", "audit"]`, its fields as
 * properties): what happened (`denied`, `refused`, `revoked`, …), who did it and
 * when (`at`). Never pass secrets: public keys and names only.
 *
 * @example
 * ```ts
 * import { audit } from '@huly/network/internal'
 * audit('revoked', { peer: 'frontend-42', sessions: 1 })
 * ```
 */
export function audit(event: string, fields: Record<string, unknown>): void {
  const record = { event, at: new Date().toISOString(), ...fields }
  // Refusals are warnings; changes of who may do what are information.
  if (event === 'denied' || event === 'refused') auditLogger.warn(`audit ${event}`, record)
  else auditLogger.info(`audit ${event}`, record)
}

function kindAllowed(grant: PeerGrant, kind: ContainerKind | string): boolean {
  return grant.kinds === undefined || grant.kinds.includes(kind)
}
