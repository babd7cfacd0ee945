// The containers of the demo agent: `echo` (answers with what it gets, and bursts
// events for load tests) and `counter` (a number that connected clients watch).
import {
  type Broadcast,
  type ClientUuid,
  type Container,
  type ContainerFactory,
  InvalidArgumentError,
  UnknownMethodError,
} from '../core/mod.ts'

/** The largest burst one request may ask for. */
const maxBurst = 10_000_000

/** What a demo container shares: the clients connected to it. */
abstract class DemoContainer implements Container {
  protected readonly clients = new Map<ClientUuid, Broadcast>()

  abstract request(operation: string, data: unknown): Promise<unknown>

  connect(clientId: ClientUuid, broadcast: Broadcast): void {
    this.clients.set(clientId, broadcast)
  }

  disconnect(clientId: ClientUuid): void {
    this.clients.delete(clientId)
  }

  terminate(): Promise<void> {
    this.clients.clear()
    return Promise.resolve()
  }

  ping(): void {}

  protected broadcast(data: unknown): void {
    for (const send of this.clients.values()) send(data)
  }
}

/** `echo DATA` answers DATA; `burst {n}` sends n events `{i}` to every connected client. */
export class EchoContainer extends DemoContainer {
  request(operation: string, data: unknown): Promise<unknown> {
    switch (operation) {
      case 'echo':
        return Promise.resolve(data)
      case 'burst': {
        const n = (data as { n?: unknown } | null)?.n
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > maxBurst) {
          return Promise.reject(
            new InvalidArgumentError(`burst needs {"n": an integer from 0 to ${maxBurst}}`),
          )
        }
        for (const send of this.clients.values()) {
          for (let i = 0; i < n; i++) send({ i })
        }
        return Promise.resolve(n)
      }
      default:
        return Promise.reject(
          new UnknownMethodError(`echo has no operation "${operation}" (echo, burst)`),
        )
    }
  }
}

/**
 * `get` answers the value; `increment {by?}` adds to it (1 by default) and tells
 * every connected client `{value}`; `reset` sets it to 0. It starts at
 * `extra.start` (0), or at the value its previous copy handed over when it moved.
 */
export class CounterContainer extends DemoContainer {
  #value: number

  constructor(start: number) {
    super()
    this.#value = start
  }

  request(operation: string, data: unknown): Promise<unknown> {
    switch (operation) {
      case 'get':
        return Promise.resolve(this.#value)
      case 'increment': {
        const by = (data as { by?: unknown } | null | undefined)?.by ?? 1
        if (typeof by !== 'number' || !Number.isFinite(by)) {
          return Promise.reject(new InvalidArgumentError('increment takes {"by": a number}'))
        }
        return Promise.resolve(this.#set(this.#value + by))
      }
      case 'reset':
        return Promise.resolve(this.#set(0))
      default:
        return Promise.reject(
          new UnknownMethodError(`counter has no operation "${operation}" (get, increment, reset)`),
        )
    }
  }

  /** The value goes with the counter when it moves to another agent. */
  handOver(): Promise<unknown> {
    return Promise.resolve(this.#value)
  }

  #set(value: number): number {
    this.#value = value
    this.broadcast({ value })
    return value
  }
}

/** The factories of the demo agent, by kind. */
export const demoKinds: Record<string, ContainerFactory> = {
  echo: (options) => Promise.resolve({ uuid: options.uuid, container: new EchoContainer() }),
  counter: (options) => {
    const start = options.handedOver ?? options.extra?.start ?? 0
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      return Promise.reject(
        new InvalidArgumentError('counter extra.start (or the value handed over) must be a number'),
      )
    }
    return Promise.resolve({ uuid: options.uuid, container: new CounterContainer(start) })
  },
}
