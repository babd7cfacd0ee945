// Change events: collected in order during one turn of the event loop, delivered
// as one batch to every listener in a microtask.
import { getLogger } from '@logtape/logtape'
import type {
  AgentRecord,
  ChangeType,
  ContainerRecord,
  NetworkEvent,
  NetworkEventListener,
} from './types.ts'

const logger = getLogger(['huly-network', 'core', 'events'])

/** Collects changes and delivers them in order; a failing listener harms no other. */
export class EventBatcher {
  private readonly listeners = new Set<NetworkEventListener>()
  private batch: NetworkEvent | undefined

  subscribe(listener: NetworkEventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  agent(type: ChangeType, agent: AgentRecord): void {
    this.current().agents.push({ type, agent })
  }

  container(type: ChangeType, container: ContainerRecord): void {
    this.current().containers.push({ type, container: { ...container } })
  }

  clear(): void {
    this.listeners.clear()
    this.batch = undefined
  }

  private current(): NetworkEvent {
    if (this.batch === undefined) {
      this.batch = { agents: [], containers: [] }
      queueMicrotask(() => this.flush())
    }
    return this.batch
  }

  private flush(): void {
    const event = this.batch
    this.batch = undefined
    if (event === undefined) return
    for (const listener of this.listeners) {
      try {
        const result = listener(event)
        if (result instanceof Promise) {
          result.catch((error) => logger.error('an event listener failed: {error}', { error }))
        }
      } catch (error) {
        logger.error('an event listener failed: {error}', { error })
      }
    }
  }
}
