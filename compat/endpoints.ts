/**
 * huly.net's endpoint references: JSON strings, converted to and from this
 * library's `EndpointRef` objects.
 *
 * @module
 */
import type { AgentUuid, ContainerUuid, EndpointRef } from '../core/types.ts'
import { directEndpoint, networkEndpoint, routedEndpoint } from '../core/endpoint.ts'
import { InvalidArgumentError } from '../common/errors.ts'
import type { AgentEndpointRef, ContainerEndpointRef } from './types.ts'

/**
 * How a container is reached, with huly.net's numbers.
 *
 * @example
 * ```ts
 * import { EndpointKind } from '@huly/network/compat'
 * console.assert(EndpointKind.direct === 1)
 * ```
 */
export enum EndpointKind {
  /** Through the agent's endpoint, which routes to the container. */
  routed = 0,
  /** Straight to the container's own endpoint. */
  direct = 1,
  /** No endpoint: only through the network. */
  noconnect = 2,
}

/**
 * What an endpoint reference string holds.
 *
 * @example
 * ```ts
 * import { agentNoConnectRef, type EndpointRefData, parseEndpointRef } from '@huly/network/compat'
 * import type { AgentUuid } from '@huly/network/core'
 * const data: EndpointRefData = parseEndpointRef(agentNoConnectRef('a1' as AgentUuid))
 * console.assert(data.host === '')
 * ```
 */
export interface EndpointRefData {
  /** How it is reached. */
  kind: EndpointKind
  /** Host name ('' without an endpoint). */
  host: string
  /** Port (0 without an endpoint). */
  port: number
  /** The agent hosting it. */
  agentId: AgentUuid
  /** The container, for a container's reference. */
  uuid?: ContainerUuid
}

/**
 * The reference of an agent listening on `host:port`.
 *
 * @example
 * ```ts
 * import { agentDirectRef, parseEndpointRef } from '@huly/network/compat'
 * import type { AgentUuid } from '@huly/network/core'
 * console.assert(parseEndpointRef(agentDirectRef('localhost', 3738, 'a1' as AgentUuid)).port === 3738)
 * ```
 */
export function agentDirectRef(host: string, port: number, uuid: AgentUuid): AgentEndpointRef {
  return stringify({ kind: EndpointKind.direct, host, port, agentId: uuid })
}

/**
 * The reference of an agent without an endpoint of its own.
 *
 * @example
 * ```ts
 * import { agentNoConnectRef, EndpointKind, parseEndpointRef } from '@huly/network/compat'
 * import type { AgentUuid } from '@huly/network/core'
 * console.assert(parseEndpointRef(agentNoConnectRef('a1' as AgentUuid)).kind === EndpointKind.noconnect)
 * ```
 */
export function agentNoConnectRef(uuid: AgentUuid): AgentEndpointRef {
  return stringify({ kind: EndpointKind.noconnect, host: '', port: 0, agentId: uuid })
}

/**
 * The reference of `container` reached through its agent (`routed`; `noconnect`
 * when the agent has no endpoint).
 *
 * @example
 * ```ts
 * import { agentDirectRef, containerOnAgentEndpointRef, EndpointKind, parseEndpointRef } from '@huly/network/compat'
 * import type { AgentUuid, ContainerUuid } from '@huly/network/core'
 * const ref = containerOnAgentEndpointRef(agentDirectRef('h', 1, 'a' as AgentUuid), 'c' as ContainerUuid)
 * console.assert(parseEndpointRef(ref).kind === EndpointKind.routed)
 * ```
 */
export function containerOnAgentEndpointRef(
  agentEndpoint: AgentEndpointRef,
  container: ContainerUuid,
): ContainerEndpointRef {
  const agent = parseEndpointRef(agentEndpoint)
  return stringify({
    kind: agent.kind === EndpointKind.noconnect ? EndpointKind.noconnect : EndpointKind.routed,
    host: agent.host,
    port: agent.port,
    agentId: agent.agentId,
    uuid: container,
  })
}

/**
 * The reference of a container with its own endpoint on `host:port`.
 *
 * @example
 * ```ts
 * import { containerDirectRef, parseEndpointRef } from '@huly/network/compat'
 * import type { AgentUuid, ContainerUuid } from '@huly/network/core'
 * const ref = containerDirectRef('h', 4000, 'c' as ContainerUuid, 'a' as AgentUuid)
 * console.assert(parseEndpointRef(ref).uuid === 'c')
 * ```
 */
export function containerDirectRef(
  host: string,
  port: number,
  uuid: ContainerUuid,
  agentId: AgentUuid,
): ContainerEndpointRef {
  return stringify({ kind: EndpointKind.direct, host, port, uuid, agentId })
}

/**
 * Reads an endpoint reference string; `InvalidArgumentError` if it is not one.
 *
 * @example
 * ```ts
 * import { agentDirectRef, parseEndpointRef } from '@huly/network/compat'
 * import type { AgentUuid } from '@huly/network/core'
 * console.assert(parseEndpointRef(agentDirectRef('h', 1, 'a' as AgentUuid)).agentId === 'a')
 * ```
 */
export function parseEndpointRef(ref: AgentEndpointRef | ContainerEndpointRef): EndpointRefData {
  let data: unknown
  try {
    data = JSON.parse(ref)
  } catch {
    throw new InvalidArgumentError(`not an endpoint reference: ${String(ref).slice(0, 80)}`)
  }
  const kind = (data as EndpointRefData | null)?.kind
  if (
    typeof data !== 'object' || data === null || typeof kind !== 'number' || !(kind in EndpointKind)
  ) {
    throw new InvalidArgumentError(`not an endpoint reference: ${String(ref).slice(0, 80)}`)
  }
  return data as EndpointRefData
}

function stringify<T extends string>(data: EndpointRefData): T {
  return JSON.stringify(data) as T
}

/** `host:port` of an address such as `tcp://host:port`. */
export function splitAddress(address: string): { host: string; port: number } {
  const bare = address.replace(/^[a-z]+:\/\//, '')
  const colon = bare.lastIndexOf(':')
  return { host: bare.slice(0, colon), port: Number(bare.slice(colon + 1)) }
}

/** huly.net's string for one of our endpoints. */
export function toCompatRef(
  endpoint: EndpointRef,
  uuid: ContainerUuid,
  agentId: AgentUuid,
): ContainerEndpointRef {
  switch (endpoint.kind) {
    case 'routed': {
      const { host, port } = splitAddress(endpoint.address)
      return stringify({ kind: EndpointKind.routed, host, port, agentId, uuid })
    }
    case 'direct': {
      const { host, port } = splitAddress(endpoint.address)
      return containerDirectRef(host, port, uuid, agentId)
    }
    case 'network':
      return stringify({ kind: EndpointKind.noconnect, host: '', port: 0, agentId, uuid })
  }
}

/**
 * Our endpoint for a string a huly.net factory returned: for `routed` ones (unless
 * `keepRouted`) and for anything that is not a reference, `undefined` (the agent's
 * routed endpoint).
 */
export function fromCompatRef(ref: unknown, keepRouted = false): EndpointRef | undefined {
  if (typeof ref !== 'string') return undefined
  let data: EndpointRefData
  try {
    data = parseEndpointRef(ref as ContainerEndpointRef)
  } catch {
    return undefined
  }
  switch (data.kind) {
    case EndpointKind.direct:
      return directEndpoint(`tcp://${data.host}:${data.port}`)
    case EndpointKind.noconnect:
      return networkEndpoint()
    default:
      return keepRouted && data.host !== ''
        ? routedEndpoint(`tcp://${data.host}:${data.port}`, data.agentId)
        : undefined
  }
}

/** Our agent endpoint address of a huly.net agent reference (`undefined` for noconnect). */
export function agentAddress(ref: AgentEndpointRef | undefined): string | undefined {
  if (ref === undefined) return undefined
  const data = parseEndpointRef(ref)
  return data.kind === EndpointKind.noconnect ? undefined : `tcp://${data.host}:${data.port}`
}
