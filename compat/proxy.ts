/**
 * huly.net's proxy helpers: the handler accepts `method` as well as
 * `Interface.method` (a convenience huly.net offers and compat keeps).
 *
 * @module
 */
import { createProxy as createModernProxy } from '../core/proxy.ts'
import { InvalidArgumentError, UnknownMethodError } from '../common/errors.ts'

/**
 * Something requests go to: a reference, a connection, a client wrapper.
 *
 * @example
 * ```ts
 * import type { RequestHandler } from '@huly/network/compat'
 * const echo: RequestHandler = { request: (method, params) => Promise.resolve([method, params]) }
 * ```
 */
export interface RequestHandler {
  /** Sends `method` with its parameters. */
  request(method: string, params: unknown[]): Promise<unknown>
}

/**
 * An object whose methods serve proxy calls.
 *
 * @example
 * ```ts
 * import type { ServiceImplementation } from '@huly/network/compat'
 * const impl: ServiceImplementation = { hello: (name: string) => `hello ${name}` }
 * ```
 */
// deno-lint-ignore no-explicit-any -- huly.net's type: any method signature
export type ServiceImplementation = Record<string, (...args: any[]) => unknown>

/**
 * A typed object whose method calls are requests `Interface.method` with the
 * arguments as an array (`then` is not a remote call).
 *
 * @example
 * ```ts
 * import { createProxy } from '@huly/network/compat'
 * interface Calc { add(a: number, b: number): Promise<number> }
 * const calc = createProxy<Calc>({ request: (_m, p) => Promise.resolve((p[0] as number) + (p[1] as number)) }, 'Calc')
 * console.assert(await calc.add(1, 2) === 3)
 * ```
 */
export function createProxy<T extends object>(handler: RequestHandler, interfaceName?: string): T {
  return createModernProxy<T>(
    { request: (operation, data) => handler.request(operation, data as unknown[]) },
    interfaceName,
  ) as unknown as T
}

/**
 * Calls `method` (with or without the `interfaceName.` prefix) on
 * `implementation` with `params`; an unknown method is an `UnknownMethodError`.
 *
 * @example
 * ```ts
 * import { handleProxyCall } from '@huly/network/compat'
 * const impl = { add: (a: number, b: number) => a + b }
 * console.assert(await handleProxyCall(impl, 'Calc.add', [1, 2], 'Calc') === 3)
 * console.assert(await handleProxyCall(impl, 'add', [1, 2], 'Calc') === 3)
 * ```
 */
export async function handleProxyCall<T extends ServiceImplementation>(
  implementation: T,
  method: string,
  params: unknown[],
  interfaceName?: string,
): Promise<unknown> {
  const prefix = interfaceName === undefined || interfaceName === '' ? '' : `${interfaceName}.`
  const name = prefix !== '' && method.startsWith(prefix) ? method.slice(prefix.length) : method
  const fn = Object.hasOwn(implementation, name) || name in Object.getPrototypeOf(implementation)
    ? implementation[name]
    : undefined
  if (typeof fn !== 'function' || name === 'constructor') {
    throw new UnknownMethodError(`Method '${name}' not found in service implementation`)
  }
  if (!Array.isArray(params)) {
    throw new InvalidArgumentError(`the parameters of ${method} must be an array`)
  }
  return await fn.apply(implementation, params)
}

/**
 * A container `request` function serving `implementation` (see {@link handleProxyCall});
 * missing data counts as no parameters.
 *
 * @example
 * ```ts
 * import { createProxyHandler } from '@huly/network/compat'
 * const request = createProxyHandler({ hello: (name: string) => `hello ${name}` }, 'Greeter')
 * console.assert(await request('Greeter.hello', ['ann']) === 'hello ann')
 * console.assert(await request('hello', ['bob']) === 'hello bob')
 * ```
 */
export function createProxyHandler<T extends ServiceImplementation>(
  implementation: T,
  interfaceName?: string,
): (operation: string, data?: unknown) => Promise<unknown> {
  if (implementation === null || typeof implementation !== 'object') {
    throw new InvalidArgumentError('implementation must be an object')
  }
  return (operation, data) =>
    handleProxyCall(implementation, operation, (data ?? []) as unknown[], interfaceName)
}
