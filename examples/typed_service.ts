// deno-lint-ignore-file no-console -- an example shows its results
/**
 * A typed service: the container serves a class through `createProxyHandler`, the
 * client calls it through `cast<T>()` as if it were local.
 *
 *     deno run --allow-net examples/typed_service.ts
 */
import { createNetworkClient } from '@huly/network/client'
import { type ContainerFactory, createProxyHandler, RemoteError } from '@huly/network/core'
import { startCoordinator } from '@huly/network/server'

/** The contract both sides share. */
interface Calculator {
  add(a: number, b: number): number
  divide(a: number, b: number): number
  history(): string[]
}

class CalculatorService implements Calculator {
  readonly #history: string[] = []

  add(a: number, b: number): number {
    this.#history.push(`${a} + ${b}`)
    return a + b
  }

  divide(a: number, b: number): number {
    if (b === 0) throw new RangeError('division by zero')
    this.#history.push(`${a} / ${b}`)
    return a / b
  }

  history(): string[] {
    return [...this.#history]
  }
}

const calculator: ContainerFactory = (options) =>
  Promise.resolve({
    uuid: options.uuid,
    container: {
      request: createProxyHandler(new CalculatorService(), 'Calculator'),
    },
  })

await using coordinator = await startCoordinator({ port: 0 })
await using agentProcess = await createNetworkClient(coordinator.endpoint)
await agentProcess.serveAgent('127.0.0.1:0', { calculator }, { agentId: 'agent-1' })

await using client = await createNetworkClient(coordinator.endpoint)
await using ref = await client.get('calculator')
const calc = ref.cast<Calculator>('Calculator') // each call requests 'Calculator.<method>'
const sum: number = await calc.add(2, 3)
console.log(`add(2, 3) = ${sum}`)
console.log(`divide(10, 4) = ${await calc.divide(10, 4)}`)
try {
  await calc.divide(1, 0)
} catch (error) {
  if (!(error instanceof RemoteError)) throw error
  console.log(`divide(1, 0) failed: ${error.remoteName}: ${error.message}`)
}
console.log(`history: ${JSON.stringify(await calc.history())}`)
