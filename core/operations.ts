/**
 * The operation table both ends of the wire share: for each operation its
 * parameters and its result, and the check that turns a decoded body into those
 * parameters (or throws `InvalidArgumentError`, which the caller gets as the
 * answer). A handler sees only checked parameters.
 *
 * @module
 */
import { InvalidArgumentError } from '../common/errors.ts'
import {
  describe,
  requireId,
  requireLabels,
  requireObject,
  requireRecord,
} from '../common/validate.ts'
import type { PeerGrant } from '../security/access.ts'
import { parseEndpointRef } from './endpoint.ts'
import {
  type AgentConnectParams,
  type AgentContainerParams,
  type AgentMoveOutParams,
  type AgentMoveOutReply,
  AgentOperation,
  type AgentParams,
  type AgentStartParams,
  ContainerOperation,
  type ContainerParams,
  type DrainParams,
  type GetParams,
  type IdentifyParams,
  type ListParams,
  NetworkOperation,
  type RegisterParams,
  type RevokedParams,
} from './protocol.ts'
import type {
  AgentRecord,
  AgentRegistration,
  AgentUuid,
  ClientUuid,
  ContainerKind,
  ContainerRecord,
  ContainerUuid,
  DrainResult,
  EndpointRef,
  GetOptions,
  RegisterResult,
  StartOptions,
} from './types.ts'

/**
 * The operations a client sends to the coordinator (all but the routed
 * `network.request`, whose body travels undecoded): parameters and result of each.
 *
 * @example
 * ```ts
 * import type { NetworkOperations } from '@huly/network/internal'
 * type Get = NetworkOperations['network.get'] // { params: GetParams; result: ContainerRecord }
 * ```
 */
export interface NetworkOperations {
  /** Registers (or re-registers) an agent served by the calling connection. */
  [NetworkOperation.register]: { params: RegisterParams; result: RegisterResult }
  /** Removes an agent the calling connection serves. */
  [NetworkOperation.unregister]: { params: AgentParams; result: null }
  /** Reuses or starts a container and holds one reference to it. */
  [NetworkOperation.get]: { params: GetParams; result: ContainerRecord }
  /** Drops one reference; false when the caller held none. */
  [NetworkOperation.release]: { params: ContainerParams; result: boolean }
  /** Live containers, of one kind or all. */
  [NetworkOperation.list]: { params: ListParams; result: ContainerRecord[] }
  /** Registered agents. */
  [NetworkOperation.agents]: { params: NoParams; result: AgentRecord[] }
  /** Every kind some agent offers. */
  [NetworkOperation.kinds]: { params: NoParams; result: ContainerKind[] }
  /** Connects the caller to a container's events. */
  [NetworkOperation.connect]: { params: ContainerParams; result: null }
  /** Disconnects the caller from a container's events. */
  [NetworkOperation.disconnect]: { params: ContainerParams; result: null }
  /** Who a public key is. */
  [NetworkOperation.identify]: { params: IdentifyParams; result: PeerGrant | null }
  /** Drains an agent the calling connection serves. */
  [NetworkOperation.drain]: { params: DrainParams; result: DrainResult }
}

/**
 * The operations the coordinator sends to the client serving an agent (all but the
 * routed `agent.request`): parameters and result of each.
 *
 * @example
 * ```ts
 * import type { AgentOperations } from '@huly/network/internal'
 * type Start = AgentOperations['agent.start'] // { params: AgentStartParams; result: … }
 * ```
 */
export interface AgentOperations {
  /** Starts a container (or returns the live one). */
  [AgentOperation.start]: {
    params: AgentStartParams
    result: { uuid: ContainerUuid; endpoint: EndpointRef }
  }
  /** Terminates a container. */
  [AgentOperation.terminate]: { params: AgentContainerParams; result: null }
  /** Connects a client to a container's events. */
  [AgentOperation.connect]: { params: AgentConnectParams; result: null }
  /** Disconnects a client from a container's events. */
  [AgentOperation.disconnect]: { params: AgentConnectParams; result: null }
  /** Moves a container out, its state handed over. */
  [AgentOperation.moveOut]: { params: AgentMoveOutParams; result: AgentMoveOutReply }
}

/**
 * The operations a client sends straight to an agent's endpoint (all but the routed
 * `container.request`): parameters and result of each.
 *
 * @example
 * ```ts
 * import type { ContainerOperations } from '@huly/network/internal'
 * type Connect = ContainerOperations['container.connect'] // { params: ContainerParams; result: null }
 * ```
 */
export interface ContainerOperations {
  /** Connects the caller to a container's events. */
  [ContainerOperation.connect]: { params: ContainerParams; result: null }
  /** Disconnects the caller from a container's events. */
  [ContainerOperation.disconnect]: { params: ContainerParams; result: null }
}

/**
 * Every operation with a decoded body, by name.
 *
 * @example
 * ```ts
 * import type { Operations } from '@huly/network/internal'
 * const name: keyof Operations = 'network.kinds'
 * ```
 */
export type Operations = NetworkOperations & AgentOperations & ContainerOperations

/**
 * The parameters of an operation.
 *
 * @example
 * ```ts
 * import type { ParamsOf } from '@huly/network/internal'
 * const params: ParamsOf<'network.list'> = {}
 * ```
 */
export type ParamsOf<Op extends keyof Operations> = Operations[Op]['params']

/**
 * The result of an operation.
 *
 * @example
 * ```ts
 * import type { ResultOf } from '@huly/network/internal'
 * const released: ResultOf<'network.release'> = true
 * ```
 */
export type ResultOf<Op extends keyof Operations> = Operations[Op]['result']

/**
 * The parameters of an operation that takes none: any object (or nothing) is accepted.
 *
 * @example
 * ```ts
 * import type { NoParams } from '@huly/network/internal'
 * const params: NoParams = {}
 * ```
 */
export type NoParams = Record<string, never>

/**
 * A handler for every operation of table `T` (such as {@link NetworkOperations}),
 * given its checked parameters and the caller `C`.
 *
 * @example
 * ```ts
 * import type { ContainerOperations, OperationHandlers } from '@huly/network/internal'
 * const handlers: OperationHandlers<ContainerOperations, string> = {
 *   'container.connect': () => null,
 *   'container.disconnect': () => null,
 * }
 * ```
 */
export type OperationHandlers<T, C> = {
  [Op in keyof T]: (
    params: EntryParams<T[Op]>,
    caller: C,
  ) => EntryResult<T[Op]> | Promise<EntryResult<T[Op]>>
}

/**
 * The parameters of one entry of an operation table.
 *
 * @example
 * ```ts
 * import type { EntryParams, NetworkOperations } from '@huly/network/internal'
 * const params: EntryParams<NetworkOperations['network.list']> = {}
 * ```
 */
export type EntryParams<Entry> = Entry extends { params: infer P } ? P : never

/**
 * The result of one entry of an operation table.
 *
 * @example
 * ```ts
 * import type { EntryResult, NetworkOperations } from '@huly/network/internal'
 * const released: EntryResult<NetworkOperations['network.release']> = false
 * ```
 */
export type EntryResult<Entry> = Entry extends { result: infer R } ? R : never

/** The check of each operation's parameters. */
type ParamChecks<T> = {
  readonly [Op in keyof T]: (params: Record<string, unknown>) => EntryParams<T[Op]>
}

const agentId = (params: Record<string, unknown>) => requireId<AgentUuid>(params.agentId, 'agentId')
const uuid = (params: Record<string, unknown>) => requireId<ContainerUuid>(params.uuid, 'uuid')
const none = (): NoParams => ({})
const container = (params: Record<string, unknown>): ContainerParams => ({ uuid: uuid(params) })
const agentContainer = (params: Record<string, unknown>): AgentContainerParams => ({
  agentId: agentId(params),
  uuid: uuid(params),
})
const agentConnect = (params: Record<string, unknown>): AgentConnectParams => ({
  ...agentContainer(params),
  clientId: requireId<ClientUuid>(params.clientId, 'clientId'),
})

const networkChecks: ParamChecks<NetworkOperations> = {
  [NetworkOperation.register]: (params) => ({
    registration: requireRegistration(params.registration),
  }),
  [NetworkOperation.unregister]: (params) => ({ agentId: agentId(params) }),
  [NetworkOperation.get]: (params) => ({
    kind: requireId<ContainerKind>(params.kind, 'kind'),
    options: requireGetOptions(params.options ?? {}),
  }),
  [NetworkOperation.release]: container,
  [NetworkOperation.list]: (params) =>
    params.kind === undefined ? {} : { kind: requireId<ContainerKind>(params.kind, 'kind') },
  [NetworkOperation.agents]: none,
  [NetworkOperation.kinds]: none,
  [NetworkOperation.connect]: container,
  [NetworkOperation.disconnect]: container,
  [NetworkOperation.identify]: (params) => ({
    publicKey: requireId(params.publicKey, 'publicKey'),
  }),
  [NetworkOperation.drain]: (params) => {
    if (params.deadlineMs !== undefined && typeof params.deadlineMs !== 'number') {
      throw new InvalidArgumentError('deadlineMs must be a number of milliseconds')
    }
    return { agentId: agentId(params), deadlineMs: params.deadlineMs }
  },
}

const agentChecks: ParamChecks<AgentOperations> = {
  [AgentOperation.start]: (params) => {
    const start: AgentStartParams = {
      agentId: agentId(params),
      options: requireStartOptions(params.options),
    }
    // A state that is not bytes is dropped: the container starts fresh.
    if (params.state instanceof Uint8Array) start.state = params.state
    return start
  },
  [AgentOperation.terminate]: agentContainer,
  [AgentOperation.connect]: agentConnect,
  [AgentOperation.disconnect]: agentConnect,
  [AgentOperation.moveOut]: (params) => {
    const { deadlineMs } = params
    if (typeof deadlineMs !== 'number' || !(deadlineMs >= 0)) {
      throw new InvalidArgumentError(
        `agent.moveOut needs { uuid, deadlineMs >= 0 }, got deadlineMs ${describe(deadlineMs)}`,
      )
    }
    return { ...agentContainer(params), deadlineMs }
  },
}

const containerChecks: ParamChecks<ContainerOperations> = {
  [ContainerOperation.connect]: container,
  [ContainerOperation.disconnect]: container,
}

const checks: ParamChecks<Operations> = { ...networkChecks, ...agentChecks, ...containerChecks }

/**
 * The operation tables by name, as {@link dispatcher} takes them.
 *
 * @example
 * ```ts
 * import type { OperationTables } from '@huly/network/internal'
 * const table: keyof OperationTables = 'agent'
 * ```
 */
export interface OperationTables {
  /** What clients send to the coordinator. */
  network: NetworkOperations
  /** What the coordinator sends to the client serving an agent. */
  agent: AgentOperations
  /** What clients send straight to an agent's endpoint. */
  container: ContainerOperations
}

const tables: { readonly [K in keyof OperationTables]: ParamChecks<OperationTables[K]> } = {
  network: networkChecks,
  agent: agentChecks,
  container: containerChecks,
}

/**
 * The checked parameters of `operation` from its decoded body: nothing (`null`) is
 * taken for no parameters; anything but an object, or a field of the wrong shape,
 * throws `InvalidArgumentError`.
 *
 * @example
 * ```ts
 * import { checkParams } from '@huly/network/internal'
 * const { uuid } = checkParams('network.release', { uuid: 'c1' })
 * console.log(uuid) // c1
 * ```
 */
export function checkParams<Op extends keyof Operations>(
  operation: Op,
  body: unknown,
): ParamsOf<Op> {
  return checks[operation](fields(operation, body))
}

/**
 * The dispatcher of one table (`network`, `agent` or `container` operations): it
 * checks the decoded body of each request and runs the operation's handler with
 * the checked parameters; an operation not in the table throws `unknown(operation)`.
 *
 * @example
 * ```ts
 * import { ProtocolError } from '@huly/network/core'
 * import { dispatcher } from '@huly/network/internal'
 * const dispatch = dispatcher('container', {
 *   'container.connect': ({ uuid }, caller: string) => (console.log(caller, uuid), null),
 *   'container.disconnect': () => null,
 * }, (operation) => new ProtocolError(`unknown container operation "${operation}"`))
 * await dispatch('container.connect', { uuid: 'c1' }, 'client-1')
 * ```
 */
export function dispatcher<K extends keyof OperationTables, C>(
  table: K,
  handlers: OperationHandlers<OperationTables[K], C>,
  unknown: (operation: string) => Error,
): (operation: string, body: unknown, caller: C) => Promise<unknown> {
  const checks: ParamChecks<OperationTables[K]> = tables[table]
  // deno-lint-ignore require-await -- async so that a failed check rejects, never throws
  return async (operation, body, caller) => {
    if (!hasOperation(checks, operation)) throw unknown(operation)
    return run(checks, handlers, operation, fields(operation, body), caller)
  }
}

function hasOperation<T extends object>(
  table: T,
  operation: string,
): operation is keyof T & string {
  return Object.hasOwn(table, operation)
}

/** Runs one operation's handler on its checked parameters. */
function run<T, Op extends keyof T, C>(
  checks: ParamChecks<T>,
  handlers: OperationHandlers<T, C>,
  operation: Op,
  body: Record<string, unknown>,
  caller: C,
): EntryResult<T[Op]> | Promise<EntryResult<T[Op]>> {
  return handlers[operation](checks[operation](body), caller)
}

/** A decoded body as an object of fields: nothing is no fields. */
function fields(operation: string, body: unknown): Record<string, unknown> {
  if (body === null || body === undefined) return {}
  if (typeof body !== 'object' || Array.isArray(body) || body instanceof Uint8Array) {
    throw new InvalidArgumentError(`the parameters of ${operation} must be an object`)
  }
  return body as Record<string, unknown>
}

/** The options of a get: uuid, labels and extra, each of its shape. */
function requireGetOptions(value: unknown): GetOptions {
  const options = requireObject(value, 'options')
  const extra = requireRecord(options.extra, 'extra')
  return {
    ...(options.uuid === undefined ? {} : { uuid: requireId<ContainerUuid>(options.uuid, 'uuid') }),
    labels: requireLabels(options.labels),
    ...(extra === undefined ? {} : { extra }),
  }
}

/** What an agent is asked to start. */
function requireStartOptions(value: unknown): StartOptions {
  const options = requireObject(value, 'options')
  const extra = requireRecord(options.extra, 'extra')
  return {
    uuid: requireId<ContainerUuid>(options.uuid, 'uuid'),
    kind: requireId<ContainerKind>(options.kind, 'kind'),
    labels: requireLabels(options.labels),
    ...(extra === undefined ? {} : { extra }),
  }
}

/**
 * An agent's registration, each field of its shape; the containers it reports are
 * given its id.
 *
 * @example
 * ```ts
 * import { requireRegistration } from '@huly/network/internal'
 * const registration = requireRegistration({ agentId: 'a1', kinds: ['echo'], containers: [] })
 * console.log(registration.kinds) // ['echo']
 * ```
 */
export function requireRegistration(value: unknown): AgentRegistration {
  const registration = requireObject(value, 'registration')
  const agentId = requireId<AgentUuid>(registration.agentId, 'registration.agentId')
  const kinds = requireLabels(registration.kinds, 'registration.kinds') as ContainerKind[]
  const endpoint = registration.endpoint === undefined
    ? undefined
    : requireId(registration.endpoint, 'registration.endpoint')
  if (!Array.isArray(registration.containers)) {
    throw new InvalidArgumentError('registration.containers must be an array of records')
  }
  const containers = registration.containers.map((record) =>
    requireContainerRecord(record, agentId)
  )
  return { agentId, kinds, endpoint, containers }
}

function requireContainerRecord(value: unknown, agentId: AgentUuid): ContainerRecord {
  const record = requireObject(value, 'container record')
  const extra = requireRecord(record.extra, 'container record extra')
  return {
    uuid: requireId(record.uuid, 'container record uuid'),
    kind: requireId(record.kind, 'container record kind'),
    agentId,
    endpoint: parseEndpointRef(record.endpoint),
    labels: requireLabels(record.labels, 'container record labels'),
    ...(extra === undefined ? {} : { extra }),
    ...(record.stateless === true ? { stateless: true } : {}),
  }
}

/**
 * The body of a `network.revoked` event, checked: an object whose `publicKeys` is an
 * array of strings. Throws `InvalidArgumentError` otherwise.
 *
 * @example
 * ```ts
 * import { requireRevoked } from '@huly/network/internal'
 * console.log(requireRevoked({ publicKeys: [] }).publicKeys.length) // 0
 * ```
 */
export function requireRevoked(value: unknown): RevokedParams {
  const { publicKeys } = requireObject(value, 'the revoked event')
  if (!Array.isArray(publicKeys) || publicKeys.some((key) => typeof key !== 'string')) {
    throw new InvalidArgumentError(
      `the revoked event needs publicKeys: string[], got ${describe(publicKeys)}`,
    )
  }
  return { publicKeys }
}
