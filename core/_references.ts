// The reference table: which client holds which container, counted per get.
import type { ClientUuid, ContainerUuid } from './types.ts'

/** Counts references per (client, container); one get is one reference. */
export class ReferenceTable {
  private readonly byContainer = new Map<ContainerUuid, Map<ClientUuid, number>>()
  private readonly byClient = new Map<ClientUuid, Set<ContainerUuid>>()
  /** References held in all, kept as they change (metrics read it at every scrape). */
  #total = 0

  /** References held in all. */
  get total(): number {
    return this.#total
  }

  /** Adds one reference of `client` to `uuid`. */
  acquire(client: ClientUuid, uuid: ContainerUuid): void {
    let holders = this.byContainer.get(uuid)
    if (holders === undefined) this.byContainer.set(uuid, holders = new Map())
    holders.set(client, (holders.get(client) ?? 0) + 1)
    this.#total++
    let held = this.byClient.get(client)
    if (held === undefined) this.byClient.set(client, held = new Set())
    held.add(uuid)
  }

  /** Drops one reference of `client` to `uuid`; false when it held none. */
  release(client: ClientUuid, uuid: ContainerUuid): boolean {
    const holders = this.byContainer.get(uuid)
    const count = holders?.get(client)
    if (holders === undefined || count === undefined) return false
    this.#total--
    if (count > 1) {
      holders.set(client, count - 1)
      return true
    }
    holders.delete(client)
    if (holders.size === 0) this.byContainer.delete(uuid)
    const held = this.byClient.get(client)
    held?.delete(uuid)
    if (held?.size === 0) this.byClient.delete(client)
    return true
  }

  /** Drops every reference of `client`; returns the containers it held. */
  releaseClient(client: ClientUuid): ContainerUuid[] {
    const held = [...(this.byClient.get(client) ?? [])]
    for (const uuid of held) {
      const holders = this.byContainer.get(uuid)
      this.#total -= holders?.get(client) ?? 0
      holders?.delete(client)
      if (holders?.size === 0) this.byContainer.delete(uuid)
    }
    this.byClient.delete(client)
    return held
  }

  /** Forgets every reference to a container that is gone. */
  dropContainer(uuid: ContainerUuid): void {
    for (const [client, count] of this.byContainer.get(uuid) ?? []) {
      this.#total -= count
      const held = this.byClient.get(client)
      held?.delete(uuid)
      if (held?.size === 0) this.byClient.delete(client)
    }
    this.byContainer.delete(uuid)
  }

  /** Whether anyone holds `uuid`. */
  isHeld(uuid: ContainerUuid): boolean {
    return this.byContainer.has(uuid)
  }

  /** References to `uuid`, by the client holding them. */
  holdersOf(uuid: ContainerUuid): ReadonlyMap<ClientUuid, number> | undefined {
    return this.byContainer.get(uuid)
  }

  /** Every client holding something, with the containers it holds. */
  clients(): IterableIterator<[ClientUuid, ReadonlySet<ContainerUuid>]> {
    return this.byClient.entries()
  }

  /** Whether `client` holds anything. */
  holdsAny(client: ClientUuid): boolean {
    return this.byClient.has(client)
  }
}
