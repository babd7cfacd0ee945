/**
 * A first-in first-out queue with O(1) push and shift.
 *
 * @module
 */

/** A FIFO backed by an array and a moving head, compacted as it drains. */
export class Fifo<T> {
  #items: (T | undefined)[] = []
  #head = 0

  /** The number of queued items. */
  get length(): number {
    return this.#items.length - this.#head
  }

  /** Appends an item. */
  push(item: T): void {
    this.#items.push(item)
  }

  /** The oldest item, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#items[this.#head]
  }

  /** The item `index` places behind the oldest, or `undefined` past the end. */
  at(index: number): T | undefined {
    return this.#items[this.#head + index]
  }

  /** Removes and returns the oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    if (this.#head === this.#items.length) {
      this.#items = []
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /** Removes every item. */
  clear(): void {
    this.#items = []
    this.#head = 0
  }
}
