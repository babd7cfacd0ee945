// Shared by client/ and server/; not exported from any mod.ts (a module of the
// package, not of its API).
// Audits refused connections without flooding the log: a refused peer may try
// again and again, on as many connections as it likes, so each key and address is
// audited at most once per interval, with the number of refusals since.
import { audit } from './access.ts'

const MAX_REMEMBERED = 10_000

/** Rate-limited `refused` audit records, per public key and address. */
export class RefusalAudit {
  readonly #last = new Map<string, { at: number; count: number }>()

  constructor(readonly intervalMs: number = 10_000) {}

  /** Counts one refusal, and audits it unless this key and address were audited lately. */
  record(publicKey: string, address: string, fields: Record<string, unknown> = {}): void {
    const key = `${publicKey}@${address}`
    const now = Date.now()
    const last = this.#last.get(key)
    if (last !== undefined && now - last.at < this.intervalMs) {
      last.count++
      return
    }
    if (this.#last.size >= MAX_REMEMBERED) this.#last.clear()
    this.#last.set(key, { at: now, count: 0 })
    audit('refused', { publicKey, address, ...fields, refusedSinceLast: last?.count ?? 0 })
  }
}
