// Where the coordinator listens unless told otherwise: one place for the server, the
// HTTP endpoint and startCoordinator's messages.

/** The address both listeners bind by default: this machine only. */
export const DEFAULT_HOST = '127.0.0.1'
/** The coordinator's rpc port. */
export const DEFAULT_PORT = 3737
/** The HTTP endpoint's port (dashboard, /metrics, /healthz). */
export const DEFAULT_HTTP_PORT = 3780
