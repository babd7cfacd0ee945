/**
 * Typed proxies: call a remote interface as if it were local, and serve one from
 * an implementation object.
 *
 * @module
 */
import { InvalidArgumentError, UnknownMethodError } from '../common/errors.ts'
import { requireFunction, requireId } from '../common/validate.ts'

/**
 * Anything that sends a request and resolves with its answer.
 *
 * @example
 * ```ts
 * import type { RequestSender } from '@huly/network/core'
 * const sender: RequestSender = { request: (operation, data) => Promise.resolve([operation, data]) }
 * ```
 */
export interface RequestSender {
  /** Sends `operation` with `data` and resolves with the answer. */
  request(operation: string, data: unknown): Promise<unknown>
}

/**
 * Turns every method of `T` into a promise-returning remote call.
 *
 * @example
 * ```ts
 * import type { Remote } from '@huly/network/core'
 * interface Counter { add(n: number): number }
 * declare const counter: Remote<Counter>
 * const total: Promise<number> = counter.add(1)
 * ```
 */
export type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>>
    : never
}

/** Properties a proxy never turns into a remote call. */
const localProperties = new Set(['then', 'toJSON', 'constructor', 'valueOf', 'toString'])

/**
 * A proxy whose method `m` sends `handler.request('<name>.m', [args…])` (or just
 * `'m'` when `name` is empty). Awaiting the proxy, reading `then`, `toJSON` or any
 * symbol makes no request.
 *
 * @example
 * ```ts
 * import { createProxy } from '@huly/network/core'
 * interface Greeter { greet(name: string): string }
 * const greeter = createProxy<Greeter>(
 *   { request: (operation, data) => Promise.resolve(`${operation} ${JSON.stringify(data)}`) },
 *   'Greeter',
 * )
 * console.log(await greeter.greet('Ada')) // Greeter.greet ["Ada"]
 * ```
 */
export function createProxy<T extends object>(handler: RequestSender, name = ''): Remote<T> {
  requireFunction(handler?.request, 'handler.request')
  const prefix = operationPrefix(name)
  return new Proxy(Object.create(null), {
    get(_target, property) {
      if (typeof property === 'symbol' || localProperties.has(property)) return undefined
      return (...args: unknown[]) => handler.request(prefix + property, args)
    },
  }) as Remote<T>
}

/**
 * Serves one proxy call on `implementation`: `operation` is `<name>.<method>` (or
 * `<method>` when `name` is empty) and
 * `data` the array of arguments. Only the implementation's own methods (and those
 * of its classes) are callable, never anything inherited from `Object`.
 *
 * @example
 * ```ts
 * import { handleProxyCall } from '@huly/network/internal'
 * class Greeter { greet(name: string) { return `hello ${name}` } }
 * console.log(await handleProxyCall(new Greeter(), 'Greeter', 'Greeter.greet', ['Ada']))
 * ```
 */
export async function handleProxyCall(
  implementation: object,
  name: string | undefined,
  operation: string,
  data: unknown,
): Promise<unknown> {
  const method = findMethod(implementation, name, operation)
  if (!Array.isArray(data)) {
    throw new InvalidArgumentError(`arguments of ${operation} must be an array`)
  }
  return await method.apply(implementation, data)
}

/**
 * A request handler (such as a container's `request`) that serves every call of
 * the interface `name` on `implementation`.
 *
 * @example
 * ```ts
 * import { createProxyHandler } from '@huly/network/core'
 * const handle = createProxyHandler({ add: (a: number, b: number) => a + b }, 'Calc')
 * console.log(await handle('Calc.add', [1, 2])) // 3
 * ```
 */
export function createProxyHandler(
  implementation: object,
  name = '',
): (operation: string, data: unknown) => Promise<unknown> {
  if (implementation === null || typeof implementation !== 'object') {
    throw new InvalidArgumentError('implementation must be an object')
  }
  operationPrefix(name)
  return (operation, data) => handleProxyCall(implementation, name, operation, data)
}

/** `'<name>.'`, or `''` for an unnamed interface. */
function operationPrefix(name: string | undefined): string {
  if (name === undefined || name === '') return ''
  return `${requireId(name, 'name')}.`
}

function findMethod(
  implementation: object,
  name: string | undefined,
  operation: string,
): (...args: unknown[]) => unknown {
  const prefix = operationPrefix(name)
  const methodName = typeof operation === 'string' && operation.startsWith(prefix)
    ? operation.slice(prefix.length)
    : undefined
  if (methodName !== undefined && methodName !== 'constructor') {
    for (
      let owner: object | null = implementation;
      owner !== null && owner !== Object.prototype;
      owner = Object.getPrototypeOf(owner)
    ) {
      const descriptor = Object.getOwnPropertyDescriptor(owner, methodName)
      if (descriptor === undefined) continue
      if (typeof descriptor.value === 'function') return descriptor.value
      break
    }
  }
  throw new UnknownMethodError(
    `"${String(operation)}" is not a method of ${name || 'the implementation'}`,
  )
}
