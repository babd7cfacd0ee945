// The errors users branch on with `instanceof`, listed once for every entry point
// that exports them (the root and `@huly/network/core`).
export {
  AgentLostError,
  AgentNotFoundError,
  AuthorizationError,
  ClosedError,
  ContainerMovingError,
  ContainerNotFoundError,
  ErrorCode,
  HandOverTooLargeError,
  InvalidArgumentError,
  LimitExceededError,
  MessageTooLargeError,
  NetworkError,
  NoAgentError,
  NotConnectedError,
  OutcomeUnknownError,
  ProtocolError,
  RateLimitError,
  RemoteError,
  TimeoutError,
  UnknownMethodError,
} from './errors.ts'
