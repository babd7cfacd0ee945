/**
 * The string types of huly.net: plain strings with a brand, as there.
 *
 * @module
 */

/**
 * An endpoint reference of a container: a JSON string (see {@link parseEndpointRef}).
 *
 * @example
 * ```ts
 * import { type ContainerEndpointRef, containerDirectRef } from '@huly/network/compat'
 * import type { AgentUuid, ContainerUuid } from '@huly/network/core'
 * const ref: ContainerEndpointRef = containerDirectRef('localhost', 4000, 'c1' as ContainerUuid, 'a1' as AgentUuid)
 * ```
 */
export type ContainerEndpointRef = string & { readonly __compat: 'ContainerEndpointRef' }

/**
 * An endpoint reference of an agent: a JSON string (see {@link parseEndpointRef}).
 *
 * @example
 * ```ts
 * import { type AgentEndpointRef, agentDirectRef } from '@huly/network/compat'
 * import type { AgentUuid } from '@huly/network/core'
 * const ref: AgentEndpointRef = agentDirectRef('localhost', 3738, 'a1' as AgentUuid)
 * ```
 */
export type AgentEndpointRef = string & { readonly __compat: 'AgentEndpointRef' }
