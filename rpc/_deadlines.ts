// Deadlines of many requests on one timer: the timer is armed for the earliest
// deadline only, so a request costs a Set entry instead of a timer of its own.
import type { TickManager } from '../common/clock.ts'

/** Something with a deadline in clock milliseconds. */
export interface HasDeadline {
  deadline: number
}

/**
 * The entries that must expire at their deadline. Requests usually share one
 * timeout, so a new deadline is rarely the earliest and rarely re-arms the timer.
 */
export class Deadlines<T extends HasDeadline> {
  readonly #clock: TickManager
  readonly #onExpire: (entry: T) => void
  readonly #entries = new Set<T>()
  #armedAt = Infinity
  #cancelTimer: (() => void) | undefined

  constructor(clock: TickManager, onExpire: (entry: T) => void) {
    this.#clock = clock
    this.#onExpire = onExpire
  }

  /** Expires `entry` at `entry.deadline` unless it is deleted before. */
  add(entry: T): void {
    this.#entries.add(entry)
    if (entry.deadline < this.#armedAt) this.#arm(entry.deadline)
  }

  /** Forgets `entry`; the timer stops when nothing is left. */
  delete(entry: T): void {
    this.#entries.delete(entry)
    if (this.#entries.size === 0) this.#disarm()
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries.clear()
    this.#disarm()
  }

  #arm(at: number): void {
    this.#cancelTimer?.()
    this.#armedAt = at
    this.#cancelTimer = this.#clock.schedule(
      () => this.#expire(),
      Math.max(0, at - this.#clock.now()),
    )
  }

  #disarm(): void {
    this.#cancelTimer?.()
    this.#cancelTimer = undefined
    this.#armedAt = Infinity
  }

  #expire(): void {
    this.#cancelTimer = undefined
    this.#armedAt = Infinity
    const now = this.#clock.now()
    const expired: T[] = []
    let next = Infinity
    for (const entry of this.#entries) {
      if (entry.deadline <= now) expired.push(entry)
      else if (entry.deadline < next) next = entry.deadline
    }
    for (const entry of expired) this.#entries.delete(entry)
    if (next < Infinity) this.#arm(next)
    for (const entry of expired) this.#onExpire(entry)
  }
}
