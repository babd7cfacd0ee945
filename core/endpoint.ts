/**
 * Endpoint references: how a client reaches a container.
 *
 * @module
 */
import { InvalidArgumentError } from '../common/errors.ts'
import type { AgentUuid, EndpointRef } from './types.ts'
import { describe, requireId } from '../common/validate.ts'

/**
 * The endpoint of a container reached through its agent's endpoint; `publicKey`
 * when that endpoint encrypts with CURVE.
 *
 * @example
 * ```ts
 * import { type AgentUuid } from '@huly/network/core'
 * import { routedEndpoint } from '@huly/network/internal'
 * const ref = routedEndpoint('tcp://127.0.0.1:3738', 'agent-1' as AgentUuid)
 * ```
 */
export function routedEndpoint(
  address: string,
  agentId: AgentUuid,
  publicKey?: string,
): EndpointRef {
  return {
    kind: 'routed',
    address: requireId(address, 'address'),
    agentId: requireId(agentId, 'agentId'),
    ...keyOf(publicKey),
  }
}

function keyOf(publicKey: unknown): { publicKey?: string } {
  return publicKey === undefined ? {} : { publicKey: requireId(publicKey, 'publicKey') }
}

/**
 * The endpoint of a container that binds its own address.
 *
 * @example
 * ```ts
 * import { directEndpoint } from '@huly/network/internal'
 * const ref = directEndpoint('tcp://127.0.0.1:4000')
 * ```
 */
export function directEndpoint(address: string, publicKey?: string): EndpointRef {
  return { kind: 'direct', address: requireId(address, 'address'), ...keyOf(publicKey) }
}

/**
 * The endpoint of a container reachable only through the network.
 *
 * @example
 * ```ts
 * import { networkEndpoint } from '@huly/network/internal'
 * console.assert(networkEndpoint().kind === 'network')
 * ```
 */
export function networkEndpoint(): EndpointRef {
  return { kind: 'network' }
}

/**
 * Checks that a value is a well-formed endpoint reference and returns a clean copy.
 *
 * @example
 * ```ts
 * import { parseEndpointRef } from '@huly/network/internal'
 * const ref = parseEndpointRef({ kind: 'direct', address: 'tcp://127.0.0.1:4000' })
 * ```
 */
export function parseEndpointRef(value: unknown): EndpointRef {
  const ref = value as Partial<Record<string, unknown>> | null
  switch (typeof ref === 'object' && ref !== null ? ref.kind : undefined) {
    case 'routed':
      return routedEndpoint(
        ref!.address as string,
        ref!.agentId as AgentUuid,
        ref!.publicKey as string | undefined,
      )
    case 'direct':
      return directEndpoint(ref!.address as string, ref!.publicKey as string | undefined)
    case 'network':
      return networkEndpoint()
    default:
      throw new InvalidArgumentError(
        `endpoint must be { kind: 'routed' | 'direct' | 'network', … }, got ${describe(value)}`,
      )
  }
}
