// An incoming request while its handler runs (see session.ts).
import type { IncomingRequest, RpcSession } from './session.ts'

/**
 * An incoming request being served. Its `AbortController` is only made when the
 * handler reads `signal`: most handlers never do, and one per request is costly.
 */
export class ServedRequest implements IncomingRequest {
  aborted = false
  reason: unknown = undefined
  /** Cancels the one outgoing request that follows this one (see `RequestOptions.follows`). */
  follower: (() => void) | undefined = undefined
  #controller: AbortController | undefined

  constructor(
    readonly operation: string,
    readonly meta: unknown,
    readonly body: Uint8Array,
    readonly timeoutMs: number,
    readonly session: RpcSession,
    readonly deadline: number,
    readonly trace: string | undefined,
  ) {}

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.aborted) this.#controller.abort(this.reason)
    }
    return this.#controller.signal
  }

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.#controller?.abort(reason)
    this.follower?.()
  }
}
