// deno-lint-ignore-file no-console -- an example shows its results
// huly.net example 1 (basic container request/response), our version on the compat API:
// a stateful calculator container, called through a typed proxy and by plain requests.
// Run: deno run --allow-net examples/huly-net/basic_request_response.ts
import {
  type ContainerFactory,
  type ContainerKind,
  createNetworkClient,
  createProxyHandler,
} from '@huly/network/compat'
import { containerOf, startCoordinator } from './_coordinator.ts'

interface Calculator {
  add(a: number, b: number): Promise<number>
  history(): Promise<string[]>
}

const calculator: ContainerFactory = (options) => {
  const history: string[] = []
  const impl = {
    add: (a: number, b: number) => {
      history.push(`${a}+${b}`)
      return a + b
    },
    history: () => history,
  }
  return Promise.resolve({
    uuid: options.uuid!,
    container: containerOf(createProxyHandler(impl, 'Calculator')),
    endpoint: '' as never,
  })
}

await using coordinator = await startCoordinator()
await using agents = createNetworkClient(coordinator.url)
await agents.serveAgent('127.0.0.1:0', { calculator })

await using client = createNetworkClient(coordinator.url)
const ref = await client.get('calculator' as ContainerKind, {})
const calc = ref.cast<Calculator>('Calculator')
console.log(`2 + 3 = ${await calc.add(2, 3)}`)
console.log(`plain request: ${await ref.request('add', [10, 5])}`)
console.log(`history: ${(await calc.history()).join(', ')}`)
try {
  await ref.request('divide', [1, 0])
} catch (error) {
  console.log(`unknown method: ${(error as Error).name}`)
}
await ref.close()
