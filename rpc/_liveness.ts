// How long the server waits for a silent client: the client says how long it wants
// in its hello (its own liveness timeout), and the server honours it within bounds.

/** The longest a client may ask to stay silent before it is dropped (60 s). */
export const MAX_CLIENT_ALIVE_MS = 60_000

/**
 * The liveness timeout of a client that asked for `requested` ms: never shorter than
 * the server's own (`serverAliveMs`), never longer than {@link MAX_CLIENT_ALIVE_MS}.
 */
export function clientAliveMs(requested: unknown, serverAliveMs: number): number {
  if (typeof requested !== 'number' || !Number.isFinite(requested)) return serverAliveMs
  const longest = Math.max(serverAliveMs, MAX_CLIENT_ALIVE_MS)
  return Math.min(Math.max(requested, serverAliveMs), longest)
}
