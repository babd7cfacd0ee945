// Drains: a draining agent's containers move to other agents of their kind, each
// started elsewhere only once its old copy is gone, with the requests for it held
// meanwhile.
import { getLogger } from '@logtape/logtape'
import {
  AgentLostError,
  AgentNotFoundError,
  InvalidArgumentError,
  NoAgentError,
  ProtocolError,
  TimeoutError,
} from '../common/errors.ts'
import { requireId, requireObject, requirePositive } from '../common/validate.ts'
import { DEFAULT_DRAIN_DEADLINE_MS } from './drain.ts'
import { parseEndpointRef } from './endpoint.ts'
import { HeldRequests } from './_held_requests.ts'
import { type AgentEntry, agentRecord, type ContainerEntry, type Registry } from './_registry.ts'
import type {
  AgentUuid,
  ContainerKind,
  ContainerRecord,
  ContainerUuid,
  DrainOptions,
  DrainResult,
  MoveEvent,
  MoveObserver,
  MoveOutResult,
  NetworkAgent,
} from './types.ts'

const logger = getLogger(['huly-network', 'core', 'network'])

/** Containers of one draining agent that move at once. */
const MOVES_AT_ONCE = 16

/** The longest drain deadline accepted: an hour. */
const MAX_DRAIN_DEADLINE_MS = 3_600_000

/** How one container's move ended ('gone': it left the registry meanwhile). */
type MoveOutcome = Pick<MoveEvent, 'outcome' | 'reason'> | { outcome: 'gone'; reason?: string }

/** Drains agents, and tells observers of every move and held request. */
export class Drains<A extends NetworkAgent> {
  readonly #moveObservers = new Set<MoveObserver>()

  constructor(
    readonly registry: Registry<A>,
    readonly heldLimits: { readonly count: number; readonly bytes: number },
  ) {}

  /** Tells `observer` of every move and held request; returns the function that stops it. */
  observeMoves(observer: MoveObserver): () => void {
    this.#moveObservers.add(observer)
    return () => this.#moveObservers.delete(observer)
  }

  /** Drains an agent (see `NetworkImpl.drain`). */
  async drain(agentId: AgentUuid, options: DrainOptions = {}): Promise<DrainResult> {
    this.registry.assertOpen()
    requireId(agentId, 'agentId')
    requireObject(options, 'options')
    const deadlineMs = options.deadlineMs === undefined
      ? DEFAULT_DRAIN_DEADLINE_MS
      : requirePositive(options.deadlineMs, 'deadlineMs')
    if (deadlineMs > MAX_DRAIN_DEADLINE_MS) {
      throw new InvalidArgumentError(`deadlineMs must be at most ${MAX_DRAIN_DEADLINE_MS} (1 h)`)
    }
    const agent = this.registry.agentsById.get(agentId)
    if (agent === undefined) throw new AgentNotFoundError(`agent "${agentId}" is not registered`)
    const started = this.registry.clock.now()
    if (!agent.draining) {
      agent.draining = true
      this.registry.events.agent('updated', agentRecord(agent))
    }
    logger.info('agent {agentId} drains: {count} containers move within {deadlineMs} ms', {
      agentId,
      count: agent.containers.size,
      deadlineMs,
    })
    const failedOver = this.#failOverStateless(agent)
    const outcomes = await this.#moveAll(agentId, started + deadlineMs)
    const count = (outcome: string) => outcomes.filter((o) => o.outcome === outcome).length
    const reasons = [...new Set(outcomes.flatMap((o) => o.reason === undefined ? [] : [o.reason]))]
    const result: DrainResult = {
      agentId,
      moved: count('moved'),
      failed: count('failed'),
      left: count('left'),
      failedOver,
      durationMs: this.registry.clock.now() - started,
      complete: count('failed') + count('left') === 0,
      ...(reasons.length === 0 ? {} : { reason: reasons.join('; ') }),
    }
    if (result.complete) logger.info('agent {agentId} drained in {durationMs} ms', { ...result })
    else {
      logger.warn(
        'agent {agentId} drain ended after {durationMs} ms with {left} containers left and {failed} failed: {reason}',
        { ...result },
      )
    }
    return result
  }

  /**
   * Moves every container of a draining agent, again for those whose start there
   * was under way when the drain began, until none is left to try.
   */
  async #moveAll(agentId: AgentUuid, deadline: number): Promise<MoveOutcome[]> {
    const outcomes: MoveOutcome[] = []
    const tried = new Set<ContainerUuid>()
    for (;;) {
      const starting = [...this.registry.pending.values()].filter((start) =>
        start.agentId === agentId
      )
      await Promise.allSettled(starting.map((start) => start.promise))
      const containers = this.registry.agentsById.get(agentId)?.containers ?? new Set()
      const next = [...containers].filter((uuid) => !tried.has(uuid))
      if (next.length === 0) return outcomes
      for (const uuid of next) tried.add(uuid)
      const task = (uuid: ContainerUuid) => this.#move(agentId, uuid, deadline)
      outcomes.push(...await mapLimited(next, MOVES_AT_ONCE, task))
    }
  }

  /** A draining agent's stateless containers pass to their standbys now. */
  #failOverStateless(agent: AgentEntry<A>): number {
    let failedOver = 0
    for (const uuid of [...agent.containers]) {
      const entry = this.registry.containers.get(uuid)
      const standby = this.registry.standbys.get(uuid)?.some((record) =>
        this.registry.agentsById.has(record.agentId)
      )
      if (!entry?.record.stateless || !standby) continue
      const started = this.registry.clock.now()
      this.registry.removeContainer(uuid)
      const to = this.registry.containers.get(uuid)?.record.agentId
      this.#observeMove(entry.record, agent.agentId, to, 'failed-over', 0, started)
      failedOver++
    }
    for (const uuid of [...agent.standby]) this.registry.removeStandby(uuid, agent.agentId)
    agent.standby.clear()
    return failedOver
  }

  /** Moves one container off a draining agent (see {@link drain}). */
  async #move(agentId: AgentUuid, uuid: ContainerUuid, deadline: number): Promise<MoveOutcome> {
    const started = this.registry.clock.now()
    const entry = this.registry.containers.get(uuid)
    if (entry === undefined || entry.record.agentId !== agentId) return { outcome: 'gone' }
    const { record } = entry
    const end = (outcome: MoveEvent['outcome'], reason?: string, to?: AgentUuid, bytes = 0) => {
      this.#observeMove(record, agentId, to, outcome, bytes, started, reason)
      return { outcome, reason }
    }
    if (record.stateless) {
      return end('left', `stateless container "${uuid}" has no standby to take over`)
    }
    const target = await this.#moveTarget(record.kind, deadline)
    if (this.registry.containers.get(uuid) !== entry || entry.record.agentId !== agentId) {
      return { outcome: 'gone' }
    }
    if (target === undefined) {
      return end(
        'left',
        `no other agent offers kind "${record.kind}"; its containers stay until the deadline`,
      )
    }
    const move = new HeldRequests(this.registry.clock, this.heldLimits, (outcome, waitedMs) => {
      for (const observer of this.#moveObservers) observer.held?.(outcome, waitedMs)
    })
    entry.move = move
    try {
      let out: MoveOutResult
      try {
        out = await this.#moveOut(agentId, uuid, deadline)
      } catch (error) {
        // The old copy may still live, so no other starts: it stays where it is.
        const message = error instanceof Error ? error.message : String(error)
        logger.warn('moving {uuid} out of {agentId} failed; it stays there: {message}', {
          uuid,
          agentId,
          message,
        })
        return end('failed', `moving "${uuid}" out of "${agentId}" failed: ${message}`)
      }
      if (this.registry.containers.get(uuid) !== entry) return { outcome: 'gone' }
      // The old copy is gone: only now may a new one start (single activation).
      this.registry.agentsById.get(agentId)?.containers.delete(uuid)
      const failure = await this.#startMoved(entry, target, out.handedOver)
      if (failure !== undefined) return end('failed', failure)
      return end('moved', undefined, target.agentId, out.bytes ?? 0)
    } finally {
      if (entry.move === move) entry.move = undefined
      move.release()
    }
  }

  /** A non-draining agent of `kind`, waiting for one to register until `deadline`. */
  async #moveTarget(kind: ContainerKind, deadline: number): Promise<AgentEntry<A> | undefined> {
    for (;;) {
      try {
        return this.registry.placeContainer(kind)
      } catch (error) {
        if (!(error instanceof NoAgentError)) throw error
      }
      const left = deadline - this.registry.clock.now()
      if (left <= 0 || this.registry.closed) return undefined
      const { promise, resolve } = Promise.withResolvers<void>()
      this.registry.waiters.push(resolve)
      const cancel = this.registry.clock.schedule(resolve, left)
      await promise
      cancel()
    }
  }

  /** The agent's moveOut (or terminate), cut short at `deadline`. */
  async #moveOut(
    agentId: AgentUuid,
    uuid: ContainerUuid,
    deadline: number,
  ): Promise<MoveOutResult> {
    const agent = this.registry.agentsById.get(agentId)
    if (agent === undefined) throw new AgentLostError(`agent "${agentId}" is gone`)
    const controller = new AbortController()
    const deadlineMs = Math.max(0, deadline - this.registry.clock.now())
    const cancel = this.registry.clock.schedule(
      () => controller.abort(new TimeoutError(`the drain deadline of "${agentId}" passed`)),
      deadlineMs,
    )
    try {
      if (agent.agent.moveOut !== undefined) {
        return await agent.agent.moveOut(uuid, { signal: controller.signal, deadlineMs })
      }
      await agent.agent.terminate(uuid)
      return {}
    } finally {
      cancel()
    }
  }

  /**
   * Starts a moved container on `target` with its state; on failure it leaves the
   * registry (references get it again on next use) and the reason is returned.
   */
  async #startMoved(
    entry: ContainerEntry,
    target: AgentEntry<A>,
    handedOver: unknown,
  ): Promise<string | undefined> {
    const { uuid, kind, labels, extra } = entry.record
    let endpoint
    try {
      const started = await target.agent.get({
        uuid,
        kind,
        labels,
        ...(extra === undefined ? {} : { extra }),
        ...(handedOver === undefined ? {} : { handedOver }),
      })
      if (started?.uuid !== uuid) throw new ProtocolError(`agent started the wrong uuid`)
      endpoint = parseEndpointRef(started.endpoint)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      logger.error('{uuid} left its agent but did not start on {agentId}: {message}', {
        uuid,
        agentId: target.agentId,
        message,
      })
      if (this.registry.containers.get(uuid) === entry) this.registry.removeContainer(uuid)
      return `"${uuid}" did not start on "${target.agentId}": ${message}`
    }
    if (
      this.registry.containers.get(uuid) !== entry ||
      this.registry.agentsById.get(target.agentId) !== target
    ) {
      this.registry.tellToTerminate(target, uuid)
      return `"${uuid}" or agent "${target.agentId}" went away while it started`
    }
    entry.record = { ...entry.record, agentId: target.agentId, endpoint }
    target.containers.add(uuid)
    this.registry.events.container('updated', entry.record)
    return undefined
  }

  #observeMove(
    record: ContainerRecord,
    from: AgentUuid,
    to: AgentUuid | undefined,
    outcome: MoveEvent['outcome'],
    handedOverBytes: number,
    started: number,
    reason?: string,
  ): void {
    const event: MoveEvent = {
      uuid: record.uuid,
      kind: record.kind,
      from,
      ...(to === undefined ? {} : { to }),
      outcome,
      handedOverBytes,
      durationMs: this.registry.clock.now() - started,
      ...(reason === undefined ? {} : { reason }),
    }
    for (const observer of this.#moveObservers) {
      try {
        observer.moved?.(event)
      } catch (error) {
        logger.warn('a move observer failed: {error}', { error })
      }
    }
  }
}

/** Runs `task` over `items`, at most `limit` at once; the results in order. */
async function mapLimited<T, R>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
