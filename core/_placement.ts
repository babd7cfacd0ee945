// Placement: a get finds a live or starting container that fits, or starts one on
// the next agent of its kind.
import { ProtocolError } from '../common/errors.ts'
import { parseEndpointRef } from './endpoint.ts'
import type { PendingStart, Registry } from './_registry.ts'
import type { ContainerKind, ContainerRecord, ContainerUuid, NetworkAgent } from './types.ts'

/** Finds or starts the containers of gets. */
export class Placement<A extends NetworkAgent> {
  constructor(readonly registry: Registry<A>) {}

  /** A container that fits the get, live or starting, else a new one; waits out recovery first. */
  async findOrStart(
    kind: ContainerKind,
    uuid: ContainerUuid | undefined,
    labels: string[],
    extra: Record<string, unknown> | undefined,
  ): Promise<ContainerRecord> {
    for (;;) {
      const found = this.#find(kind, uuid, labels)
      if (found !== undefined) return await found
      if (!this.registry.recovering) break
      await this.registry.waitForRecovery()
      this.registry.assertOpen()
    }
    return await this.#start(kind, uuid ?? crypto.randomUUID() as ContainerUuid, labels, extra)
  }

  /** A live or starting container that satisfies the get, if any. */
  #find(
    kind: ContainerKind,
    uuid: ContainerUuid | undefined,
    labels: string[],
  ): Promise<ContainerRecord> | ContainerRecord | undefined {
    if (uuid !== undefined) {
      return this.registry.containers.get(uuid)?.record ?? this.registry.pending.get(uuid)?.promise
    }
    const matches = (candidateKind: ContainerKind, candidateLabels: string[]) =>
      candidateKind === kind && labels.every((label) => candidateLabels.includes(label))
    for (const candidate of this.registry.byKind.get(kind) ?? []) {
      const { record } = this.registry.containers.get(candidate)!
      if (matches(record.kind, record.labels)) return record
    }
    for (const start of this.registry.pending.values()) {
      if (matches(start.kind, start.labels)) return start.promise
    }
    return undefined
  }

  #start(
    kind: ContainerKind,
    uuid: ContainerUuid,
    labels: string[],
    extra: Record<string, unknown> | undefined,
  ): Promise<ContainerRecord> {
    const agent = this.registry.placeContainer(kind)
    const { promise, resolve, reject } = Promise.withResolvers<ContainerRecord>()
    const start: PendingStart = { kind, labels, agentId: agent.agentId, promise, resolve, reject }
    this.registry.pending.set(uuid, start)
    agent.agent.get({ uuid, kind, labels, extra }).then(
      (started) => this.#completeStart(uuid, start, started, extra),
      (error) => this.#failStart(uuid, start, error),
    )
    return promise
  }

  #completeStart(
    uuid: ContainerUuid,
    start: PendingStart,
    started: { uuid: ContainerUuid; endpoint: unknown },
    extra: Record<string, unknown> | undefined,
  ): void {
    const agent = this.registry.agentsById.get(start.agentId)
    if (this.registry.pending.get(uuid) !== start || agent === undefined) {
      if (agent !== undefined) this.registry.tellToTerminate(agent, uuid)
      return
    }
    this.registry.pending.delete(uuid)
    if (started?.uuid !== uuid) {
      this.registry.tellToTerminate(agent, uuid)
      return start.reject(new ProtocolError(`agent "${agent.agentId}" started the wrong uuid`))
    }
    let endpoint
    try {
      endpoint = parseEndpointRef(started.endpoint)
    } catch (error) {
      this.registry.tellToTerminate(agent, uuid)
      return start.reject(
        new ProtocolError(`agent "${agent.agentId}" gave "${uuid}" a bad endpoint`, {
          cause: error,
        }),
      )
    }
    const record: ContainerRecord = {
      uuid,
      kind: start.kind,
      agentId: agent.agentId,
      endpoint,
      labels: start.labels,
      ...(extra === undefined ? {} : { extra }),
    }
    this.registry.addContainer(agent, record)
    start.resolve(record)
  }

  #failStart(uuid: ContainerUuid, start: PendingStart, error: unknown): void {
    if (this.registry.pending.get(uuid) !== start) return
    this.registry.pending.delete(uuid)
    start.reject(error instanceof Error ? error : new Error(String(error)))
  }
}
