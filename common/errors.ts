/**
 * Named error classes of Huly Network. Callers branch with `instanceof`, never on
 * message text. An error raised on the other side of a connection comes back as
 * the same class when it is one of these (its {@link NetworkError.remote} is
 * true), and as a {@link RemoteError} otherwise.
 *
 * @module
 */

/**
 * The codes of the errors of Huly Network, by name: each class has one, and a few
 * name refusals that only travel on the wire (`NoSession`, `TryLater`, ...).
 *
 * @example
 * ```ts
 * import { ErrorCode, TimeoutError } from '@huly/network/core'
 * console.assert(new TimeoutError('no answer').code === ErrorCode.Timeout)
 * ```
 */
export const ErrorCode = {
  /** {@link NetworkError} with no more precise class. */
  Network: 'NETWORK',
  /** {@link InvalidArgumentError}. */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** {@link TimeoutError}. */
  Timeout: 'TIMEOUT',
  /** {@link ClosedError}. */
  Closed: 'CLOSED',
  /** {@link NoAgentError}. */
  NoAgent: 'NO_AGENT',
  /** {@link ContainerNotFoundError}. */
  ContainerNotFound: 'CONTAINER_NOT_FOUND',
  /** {@link AgentNotFoundError}. */
  AgentNotFound: 'AGENT_NOT_FOUND',
  /** {@link AgentLostError}. */
  AgentLost: 'AGENT_LOST',
  /** {@link ProtocolError}. */
  Protocol: 'PROTOCOL',
  /** {@link UnknownMethodError}. */
  UnknownMethod: 'UNKNOWN_METHOD',
  /** {@link RemoteError} of a remote error that had no code. */
  Remote: 'REMOTE',
  /** {@link AuthorizationError}. */
  Forbidden: 'FORBIDDEN',
  /** {@link RateLimitError}. */
  RateLimited: 'RATE_LIMITED',
  /** {@link LimitExceededError}. */
  LimitExceeded: 'LIMIT_EXCEEDED',
  /** {@link MessageTooLargeError}. */
  MessageTooLarge: 'MESSAGE_TOO_LARGE',
  /** {@link OutcomeUnknownError}. */
  OutcomeUnknown: 'OUTCOME_UNKNOWN',
  /** {@link NotConnectedError}. */
  NotConnected: 'NOT_CONNECTED',
  /** {@link ContainerMovingError}. */
  ContainerMoving: 'CONTAINER_MOVING',
  /** The libzmq transport could not load libzmq (`LibzmqLoadError`). */
  LibzmqLoad: 'LIBZMQ_LOAD',
  /** No connected peer has that routing id (`PeerUnreachableError`). */
  PeerUnreachable: 'PEER_UNREACHABLE',
  /** libzmq reported a failure of its own. */
  Zmq: 'ZMQ',
  /** Refused on the wire: a message came before the handshake, or its session is gone. */
  NoSession: 'NO_SESSION',
  /** Refused on the wire: the handshake passed a limit for now; the client says hello again. */
  TryLater: 'TRY_LATER',
  /** Refused on the wire: the handshake failed for a reason that is not a network error. */
  Refused: 'REFUSED',
  /** Refused on the wire: the peer speaks another protocol version. */
  ProtocolVersion: 'PROTOCOL_VERSION',
  /** A request ran, and its answer was too large to keep for sending again. */
  AnswerGone: 'ANSWER_GONE',
} as const

/** One of the codes in {@link ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode]

let markRemote: (error: NetworkError) => void

/** Marks `error` as rebuilt from the wire ({@link NetworkError.remote}); for rpc/ only. */
export function markedRemote<E extends NetworkError>(error: E): E {
  markRemote(error)
  return error
}

/**
 * Base class of every error the network raises.
 *
 * @example
 * ```ts
 * import { NetworkError, TimeoutError } from '@huly/network/core'
 * const error: NetworkError = new TimeoutError('no answer in 30 s')
 * console.assert(error instanceof NetworkError)
 * ```
 */
export class NetworkError extends Error {
  /**
   * A stable machine-readable code: one of {@link ErrorCode} for the errors of
   * this library, the remote error's own code for a {@link RemoteError}.
   */
  readonly code: string
  #remote = false

  static {
    markRemote = (error) => error.#remote = true
  }

  /** Creates an error with a message, a code and an optional cause. */
  constructor(message: string, code: string = ErrorCode.Network, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }

  /**
   * Whether the error was raised on the other side of a connection (an agent, the
   * coordinator) and rebuilt here, rather than by this process.
   */
  get remote(): boolean {
    return this.#remote
  }
}

/**
 * An argument of a public method is malformed; nothing was changed.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError } from '@huly/network/core'
 * throw new InvalidArgumentError('kind must be a non-empty string')
 * ```
 */
export class InvalidArgumentError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.InvalidArgument, options)
  }
}

/**
 * An operation did not finish before its deadline.
 *
 * @example
 * ```ts
 * import { TimeoutError } from '@huly/network/core'
 * const error = new TimeoutError('request timed out after 30 s')
 * console.assert(error.code === 'TIMEOUT')
 * ```
 */
export class TimeoutError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.Timeout, options)
  }
}

/**
 * The object (socket, client, network, agent) was closed before or during the call.
 *
 * @example
 * ```ts
 * import { ClosedError } from '@huly/network/core'
 * const error = new ClosedError('socket is closed')
 * console.assert(error.code === 'CLOSED')
 * ```
 */
export class ClosedError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.Closed, options)
  }
}

/**
 * No live agent offers the requested container kind.
 *
 * @example
 * ```ts
 * import { NoAgentError } from '@huly/network/core'
 * const error = new NoAgentError('no agent offers kind "session"')
 * console.assert(error.code === 'NO_AGENT')
 * ```
 */
export class NoAgentError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.NoAgent, options)
  }
}

/**
 * The addressed container does not exist (any more).
 *
 * @example
 * ```ts
 * import { ContainerNotFoundError } from '@huly/network/core'
 * const error = new ContainerNotFoundError('container "c1" is not known')
 * console.assert(error.code === 'CONTAINER_NOT_FOUND')
 * ```
 */
export class ContainerNotFoundError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.ContainerNotFound, options)
  }
}

/**
 * The addressed agent is not registered (any more).
 *
 * @example
 * ```ts
 * import { AgentNotFoundError } from '@huly/network/core'
 * const error = new AgentNotFoundError('agent "a1" is not registered')
 * console.assert(error.code === 'AGENT_NOT_FOUND')
 * ```
 */
export class AgentNotFoundError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.AgentNotFound, options)
  }
}

/**
 * The agent that was starting or hosting a container died or left before the
 * operation finished.
 *
 * @example
 * ```ts
 * import { AgentLostError } from '@huly/network/core'
 * const error = new AgentLostError('agent "a1" died while starting "c1"')
 * console.assert(error.code === 'AGENT_LOST')
 * ```
 */
export class AgentLostError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.AgentLost, options)
  }
}

/**
 * A peer broke the protocol: a malformed frame, an unknown version or operation.
 *
 * @example
 * ```ts
 * import { ProtocolError } from '@huly/network/core'
 * const error = new ProtocolError('unsupported protocol version 7')
 * console.assert(error.code === 'PROTOCOL')
 * ```
 */
export class ProtocolError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.Protocol, options)
  }
}

/**
 * A method name that a proxy handler does not serve.
 *
 * @example
 * ```ts
 * import { UnknownMethodError } from '@huly/network/core'
 * const error = new UnknownMethodError('Session.nope is not a method')
 * console.assert(error.code === 'UNKNOWN_METHOD')
 * ```
 */
export class UnknownMethodError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.UnknownMethod, options)
  }
}

/**
 * An error raised on the other side of a connection that is not one of this
 * library's classes, carried back with its name, message and code.
 *
 * @example
 * ```ts
 * import { RemoteError } from '@huly/network/core'
 * const error = new RemoteError('TypeError', 'x is not a function')
 * console.assert(error.remoteName === 'TypeError')
 * ```
 */
export class RemoteError extends NetworkError {
  /** The `name` of the error on the remote side. */
  readonly remoteName: string

  /** Creates the error from the remote error's name, message and code. */
  constructor(
    remoteName: string,
    message: string,
    code: string = ErrorCode.Remote,
    options?: ErrorOptions,
  ) {
    super(message, code, options)
    this.remoteName = remoteName
    markRemote(this)
  }
}

/**
 * The caller may not do this: another connection owns the agent, or the key's role
 * or ACL forbids it.
 *
 * @example
 * ```ts
 * import { AuthorizationError } from '@huly/network/core'
 * const error = new AuthorizationError('agent "a1" belongs to another connection')
 * console.assert(error.code === 'FORBIDDEN')
 * ```
 */
export class AuthorizationError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.Forbidden, options)
  }
}

/**
 * The caller sent more requests per second than its limit allows; it may retry
 * after a short pause.
 *
 * @example
 * ```ts
 * import { RateLimitError } from '@huly/network/core'
 * const error = new RateLimitError('frontend-42 passed 100 requests/s')
 * console.assert(error.code === 'RATE_LIMITED')
 * ```
 */
export class RateLimitError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.RateLimited, options)
  }
}

/**
 * A peer passed one of the limits that protect a process from hostile or runaway
 * peers (message size, sessions, hellos per second, ...); `limit` names it, as
 * `docs/limits.md` does. Nothing of the refused input was done.
 *
 * @example
 * ```ts
 * import { LimitExceededError } from '@huly/network/core'
 * const error = new LimitExceededError('message-bytes', 'a message of 20 MiB passes 16 MiB')
 * console.assert(error.code === 'LIMIT_EXCEEDED' && error.limit === 'message-bytes')
 * ```
 */
export class LimitExceededError extends NetworkError {
  /** Creates the error for the limit named `limit`. */
  constructor(readonly limit: string, message: string, options?: ErrorOptions) {
    super(message, ErrorCode.LimitExceeded, options)
  }
}

/**
 * A message is larger than the transport carries; it was not sent.
 *
 * @example
 * ```ts
 * import { MessageTooLargeError } from '@huly/network/core'
 * const error = new MessageTooLargeError('request "echo"', 70_000_000, 67_108_864)
 * console.assert(error.code === 'MESSAGE_TOO_LARGE' && error.limit === 67_108_864)
 * ```
 */
export class MessageTooLargeError extends NetworkError {
  /** The message's size in bytes. */
  readonly size: number
  /** The largest size carried, in bytes. */
  readonly limit: number

  /** Creates the error for `what` (such as `request "echo"`) of `size` bytes over `limit`. */
  constructor(what: string, size: number, limit: number, options?: ErrorOptions) {
    super(
      `${what} is ${size} bytes, over the limit of ${limit} bytes (${mib(limit)} MiB)`,
      ErrorCode.MessageTooLarge,
      options,
    )
    this.size = size
    this.limit = limit
  }
}

/**
 * A request was sent, then the session that carried it ended and the peer started
 * a new one: it may or may not have run, and it is not sent again (a request never
 * runs twice). The caller decides whether repeating it is safe.
 *
 * @example
 * ```ts
 * import { OutcomeUnknownError } from '@huly/network/core'
 * const error = new OutcomeUnknownError('the session of c1 was replaced')
 * console.assert(error.code === 'OUTCOME_UNKNOWN')
 * ```
 */
export class OutcomeUnknownError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.OutcomeUnknown, options)
  }
}

/**
 * The peer could not be reached: the address and how long it was tried are in the message.
 *
 * @example
 * ```ts
 * import { NotConnectedError } from '@huly/network/core'
 * const error = new NotConnectedError('cannot reach the coordinator at 127.0.0.1:9999 within 5000 ms')
 * console.assert(error.code === 'NOT_CONNECTED')
 * ```
 */
export class NotConnectedError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.NotConnected, options)
  }
}

/**
 * The container is leaving its agent (it is being moved to another one): the request
 * did not run there. The coordinator holds such requests and sends them to the new
 * copy; a client that reached the agent directly sends it through the coordinator.
 *
 * @example
 * ```ts
 * import { ContainerMovingError } from '@huly/network/core'
 * const error = new ContainerMovingError('"c1" is moving away from agent "a1"')
 * console.assert(error.code === 'CONTAINER_MOVING')
 * ```
 */
export class ContainerMovingError extends NetworkError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.ContainerMoving, options)
  }
}

/**
 * The state a container offered to hand over encodes to more than the limit
 * (`MAX_HAND_OVER_BYTES`): it was not handed over, and the next copy starts fresh.
 *
 * @example
 * ```ts
 * import { HandOverTooLargeError, MessageTooLargeError } from '@huly/network/core'
 * const error = new HandOverTooLargeError('c1', 2_000_000, 1_048_576)
 * console.assert(error instanceof MessageTooLargeError && error.size === 2_000_000)
 * ```
 */
export class HandOverTooLargeError extends MessageTooLargeError {
  /** Creates the error for container `uuid` whose state encodes to `size` bytes. */
  constructor(uuid: string, size: number, limit: number, options?: ErrorOptions) {
    super(`the state "${uuid}" hands over`, size, limit, options)
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1)
}

/** The classes made from a message alone, which rpc/ rebuilds from the wire by name. */
export const errorsOfOneMessage: ReadonlyArray<new (message: string) => NetworkError> = [
  InvalidArgumentError,
  TimeoutError,
  ClosedError,
  NoAgentError,
  ContainerNotFoundError,
  AgentNotFoundError,
  AgentLostError,
  ProtocolError,
  UnknownMethodError,
  AuthorizationError,
  RateLimitError,
  OutcomeUnknownError,
  NotConnectedError,
  ContainerMovingError,
]
