// The reference table: which client holds which container, counted per get.
import type { ClientUuid, ContainerUuid } from './types.ts'

/**
 * The holders of one container: a client id alone when one client holds it once
 * (by far the common case, and a fraction of a Map's memory), else a count per client.
 */
type Holders = ClientUuid | Map<ClientUuid, number>

/** Counts references per (client, container); one get is one reference. */
export class ReferenceTable {
  private readonly byContainer = new Map<ContainerUuid, Holders>()
  private readonly byClient = new Map<ClientUuid, Set<ContainerUuid>>()
  /** References held in all, kept as they change (metrics read it at every scrape). */
  #total = 0

  /** References held in all. */
  get total(): number {
    return this.#total
  }

  /** Adds one reference of `client` to `uuid`. */
  acquire(client: ClientUuid, uuid: ContainerUuid): void {
    this.#total++
    const holders = this.byContainer.get(uuid)
    if (holders === undefined) this.byContainer.set(uuid, client)
    else {
      const counts = typeof holders === 'string' ? new Map([[holders, 1]]) : holders
      counts.set(client, (counts.get(client) ?? 0) + 1)
      if (counts !== holders) this.byContainer.set(uuid, counts)
    }
    let held = this.byClient.get(client)
    if (held === undefined) this.byClient.set(client, held = new Set())
    held.add(uuid)
  }

  /** Drops one reference of `client` to `uuid`; false when it held none. */
  release(client: ClientUuid, uuid: ContainerUuid): boolean {
    const holders = this.byContainer.get(uuid)
    if (holders === undefined) return false
    if (typeof holders === 'string') {
      if (holders !== client) return false
      this.byContainer.delete(uuid)
    } else {
      const count = holders.get(client)
      if (count === undefined) return false
      if (count > 1) {
        holders.set(client, count - 1)
        this.#total--
        return true
      }
      holders.delete(client)
      if (holders.size === 0) this.byContainer.delete(uuid)
    }
    this.#total--
    this.#unhold(client, uuid)
    return true
  }

  /** Drops every reference of `client`; returns the containers it held. */
  releaseClient(client: ClientUuid): ContainerUuid[] {
    const held = [...(this.byClient.get(client) ?? [])]
    for (const uuid of held) {
      const holders = this.byContainer.get(uuid)
      this.#total -= this.holdersOf(uuid)?.get(client) ?? 0
      if (typeof holders === 'string') this.byContainer.delete(uuid)
      else {
        holders?.delete(client)
        if (holders?.size === 0) this.byContainer.delete(uuid)
      }
    }
    this.byClient.delete(client)
    return held
  }

  /** Forgets every reference to a container that is gone. */
  dropContainer(uuid: ContainerUuid): void {
    for (const [client, count] of this.holdersOf(uuid) ?? []) {
      this.#total -= count
      this.#unhold(client, uuid)
    }
    this.byContainer.delete(uuid)
  }

  #unhold(client: ClientUuid, uuid: ContainerUuid): void {
    const held = this.byClient.get(client)
    held?.delete(uuid)
    if (held?.size === 0) this.byClient.delete(client)
  }

  /** Whether anyone holds `uuid`. */
  isHeld(uuid: ContainerUuid): boolean {
    return this.byContainer.has(uuid)
  }

  /** References to `uuid`, by the client holding them. */
  holdersOf(uuid: ContainerUuid): ReadonlyMap<ClientUuid, number> | undefined {
    const holders = this.byContainer.get(uuid)
    return typeof holders === 'string' ? new Map([[holders, 1]]) : holders
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
