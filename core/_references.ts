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

  /** Adds one reference of `client` to `uuid`. */
  acquire(client: ClientUuid, uuid: ContainerUuid): void {
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
        return true
      }
      holders.delete(client)
      if (holders.size === 0) this.byContainer.delete(uuid)
    }
    this.#unhold(client, uuid)
    return true
  }

  /** Drops every reference of `client`; returns the containers it held. */
  releaseClient(client: ClientUuid): ContainerUuid[] {
    const held = [...(this.byClient.get(client) ?? [])]
    for (const uuid of held) {
      const holders = this.byContainer.get(uuid)
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
    const holders = this.byContainer.get(uuid)
    const clients = typeof holders === 'string' ? [holders] : holders?.keys() ?? []
    for (const client of clients) this.#unhold(client, uuid)
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

  /** Whether `client` holds anything. */
  holdsAny(client: ClientUuid): boolean {
    return this.byClient.has(client)
  }
}
