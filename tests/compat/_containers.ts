// Containers and factories written against the compat API, shared by its tests.
import type {
  Container,
  ContainerEndpointRef,
  ContainerFactory,
  ContainerUuid,
} from '@huly/network/compat'

/** A container answering `echo` with its data and `whoami` with its uuid; it records its life. */
export class EchoContainer implements Container {
  terminated = false
  readonly clients = new Map<string, (data: unknown) => Promise<void>>()
  constructor(readonly uuid: ContainerUuid) {}
  request(operation: string, data?: unknown): Promise<unknown> {
    if (operation === 'whoami') return Promise.resolve(this.uuid)
    if (operation === 'fail') return Promise.reject(new Error('failed on purpose'))
    if (operation === 'broadcast') {
      return Promise.all([...this.clients.values()].map((send) => send(data))).then(() => null)
    }
    return Promise.resolve(data)
  }
  terminate(): Promise<void> {
    this.terminated = true
    return Promise.resolve()
  }
  ping(): Promise<void> {
    return Promise.resolve()
  }
  connect(clientId: string, broadcast: (data: unknown) => Promise<void>): void {
    this.clients.set(clientId, broadcast)
  }
  disconnect(clientId: string): void {
    this.clients.delete(clientId)
  }
}

/** A factory of EchoContainers, keeping every one it made. */
export function echoFactory(made: EchoContainer[] = []): ContainerFactory {
  return (options) => {
    const container = new EchoContainer(options.uuid!)
    made.push(container)
    return Promise.resolve({
      uuid: options.uuid!,
      container,
      endpoint: '' as ContainerEndpointRef,
    })
  }
}

/** `work`, failing after `ms` instead of hanging. */
export async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
