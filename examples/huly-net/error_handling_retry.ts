// deno-lint-ignore-file no-console -- an example shows its results
// huly.net example 5 (error handling and retry), our version on the compat API: a flaky
// container retried with exponential backoff, a deadline around a slow call, and a
// remote error told apart by its class.
// Run: deno run --allow-net examples/huly-net/error_handling_retry.ts
import {
  type ContainerFactory,
  type ContainerKind,
  createNetworkClient,
} from '@huly/network/compat'
import { containerOf, startCoordinator } from './_coordinator.ts'

const flaky: ContainerFactory = () => {
  let calls = 0
  const request = async (operation: string) => {
    if (operation === 'slow') await new Promise((resolve) => setTimeout(resolve, 500))
    if (operation === 'unstable' && ++calls < 3) throw new Error(`attempt ${calls} failed`)
    return `${operation} ok after ${calls} call(s)`
  }
  return Promise.resolve([containerOf(request)])
}

async function withRetry<T>(work: () => Promise<T>, attempts = 5, delayMs = 20): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await work()
    } catch (error) {
      if (attempt === attempts) throw error
      console.log(`retrying after: ${(error as Error).message}`)
      await new Promise((resolve) => setTimeout(resolve, delayMs * 2 ** (attempt - 1)))
    }
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}

await using coordinator = await startCoordinator()
await using agents = createNetworkClient(coordinator.url)
await agents.serveAgent('127.0.0.1:0', { flaky })
await using client = createNetworkClient(coordinator.url)
const ref = await client.get('flaky' as ContainerKind, {})

console.log(await withRetry(() => ref.request('unstable')))
try {
  await withDeadline(ref.request('slow'), 100)
} catch (error) {
  console.log(`gave up: ${(error as Error).message}`)
}
try {
  await withDeadline(client.request('no-such-container' as never, 'x'), 2000)
} catch (error) {
  console.log(`error class: ${(error as Error).name}`)
}
