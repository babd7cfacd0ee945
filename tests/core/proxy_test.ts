import assert from 'node:assert/strict'
import {
  createProxy,
  createProxyHandler,
  InvalidArgumentError,
  UnknownMethodError,
} from '../../core/mod.ts'
import { handleProxyCall } from '../../internal.ts'
import { test } from './_fixture.ts'

interface Calc {
  add(a: number, b: number): number
}

function recordingSender() {
  const calls: Array<[string, unknown]> = []
  return {
    calls,
    request(operation: string, data: unknown): Promise<unknown> {
      calls.push([operation, data])
      return Promise.resolve('answer')
    },
  }
}

test('a proxy method call sends "<name>.<method>" with the arguments array', async () => {
  const sender = recordingSender()
  const calc = createProxy<Calc>(sender, 'Calc')
  assert.equal(await calc.add(1, 2), 'answer')
  assert.deepEqual(sender.calls, [['Calc.add', [1, 2]]])
})

test('awaiting a proxy, or reading then, toJSON or a symbol, makes no request', async () => {
  const sender = recordingSender()
  const calc = createProxy<Calc>(sender, 'Calc')
  const awaited = await calc
  assert.equal(awaited, calc)
  const loose = calc as unknown as Record<string | symbol, unknown>
  assert.equal(loose.then, undefined)
  assert.equal(loose.toJSON, undefined)
  assert.equal(loose[Symbol.iterator], undefined)
  assert.equal(loose[Symbol.toPrimitive], undefined)
  assert.equal(JSON.stringify({ calc }), '{"calc":{}}')
  assert.deepEqual(sender.calls, [])
})

class CalcImpl implements Calc {
  secret = 'field'
  add(a: number, b: number): number {
    return a + b
  }
}

test('handleProxyCall calls the implementation own methods, including those of its class', async () => {
  assert.equal(await handleProxyCall(new CalcImpl(), 'Calc', 'Calc.add', [2, 3]), 5)
  assert.equal(await handleProxyCall({ twice: (n: number) => n * 2 }, 'T', 'T.twice', [4]), 8)
})

test('handleProxyCall never calls constructor, __proto__, Object methods or fields, and names the error', async () => {
  const impl = new CalcImpl()
  for (
    const method of [
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'valueOf',
      '__defineGetter__',
      'secret',
      'missing',
    ]
  ) {
    await assert.rejects(handleProxyCall(impl, 'Calc', `Calc.${method}`, []), UnknownMethodError)
  }
  await assert.rejects(handleProxyCall(impl, 'Calc', 'Other.add', [1, 2]), UnknownMethodError)
  await assert.rejects(handleProxyCall(impl, 'Calc', 'Calc.add', 'x'), InvalidArgumentError)
})

test('createProxyHandler serves a proxy end to end', async () => {
  const handle = createProxyHandler(new CalcImpl(), 'Calc')
  const calc = createProxy<Calc>({ request: handle }, 'Calc')
  assert.equal(await calc.add(40, 2), 42)
})

test('an unnamed proxy sends plain method names, and its handler serves them', async () => {
  const sender = recordingSender()
  await createProxy<Calc>(sender).add(1, 1)
  assert.deepEqual(sender.calls, [['add', [1, 1]]])
  const handle = createProxyHandler(new CalcImpl())
  assert.equal(await handle('add', [2, 2]), 4)
  await assert.rejects(handle('Calc.add', [2, 2]), UnknownMethodError)
})
