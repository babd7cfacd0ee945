// A tiny jest shim for running huly.net's jest specs under `deno test`.
// describe/it/test (+ .skip/.only/.each), hooks, expect (npm:expect), jest.fn/spyOn (npm:jest-mock).
// deno-lint-ignore no-import-prefix -- a tool outside the package, run with --no-lock
import { expect } from 'npm:expect@29.7.0'
// deno-lint-ignore no-import-prefix -- as above
import { ModuleMocker } from 'npm:jest-mock@29.7.0'

type Fn = () => unknown | Promise<unknown>
interface Suite {
  name: string
  parent?: Suite
  beforeEach: Fn[]
  afterEach: Fn[]
  beforeAll: Fn[]
  afterAll: Fn[]
  tests: number
  started: boolean
  done: number
}
/** A suite with no hooks and no tests yet. */
function suite(name: string, parent?: Suite): Suite {
  const hooks = { beforeEach: [], afterEach: [], beforeAll: [], afterAll: [] }
  return { name, parent, ...hooks, tests: 0, started: false, done: 0 }
}
const root = suite('')
let current = root
const mocker = new ModuleMocker(globalThis as never)
let defaultTimeout = Number(Deno.env.get('JEST_TIMEOUT') ?? 5000)

function chain(s: Suite): Suite[] {
  const out: Suite[] = []
  for (let x: Suite | undefined = s; x; x = x.parent) out.unshift(x)
  return out
}

async function withTimeout(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      p,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: exceeded timeout of ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

function call(fn: Fn | ((done: (err?: unknown) => void) => void)): Promise<unknown> {
  if (fn.length >= 1) {
    return new Promise((resolve, reject) => {
      ;(fn as (d: (e?: unknown) => void) => void)((err?: unknown) =>
        err ? reject(err) : resolve(undefined)
      )
    })
  }
  return Promise.resolve().then(() => (fn as Fn)())
}

function describe(name: string, body: () => void): void {
  const saved = current
  current = suite(name, current)
  try {
    body()
  } finally {
    current = saved
  }
}
describe.skip = (_name: string, _body: () => void) => {}
describe.only = describe

function test(name: string, fn: Fn, timeout?: number): void {
  const here = current
  const suites = chain(here)
  for (const s of suites) s.tests++
  const fullName = suites.map((s) => s.name).filter(Boolean).concat(name).join(' > ')
  Deno.test({
    name: fullName,
    sanitizeOps: false,
    sanitizeResources: false,
    sanitizeExit: false,
    fn: async () => {
      const ms = timeout ?? defaultTimeout
      try {
        for (const s of suites) {
          if (!s.started) {
            s.started = true
            for (const h of s.beforeAll) await withTimeout(call(h), ms, 'beforeAll')
          }
        }
        let error: unknown
        try {
          for (const s of suites) {
            for (const h of s.beforeEach) await withTimeout(call(h), ms, 'beforeEach')
          }
          await withTimeout(call(fn), ms, 'test')
        } catch (e) {
          error = e
        }
        for (const s of [...suites].reverse()) {
          for (const h of s.afterEach) {
            try {
              await withTimeout(call(h), ms, 'afterEach')
            } catch (e) {
              error ??= e
            }
          }
        }
        if (error !== undefined) throw error
      } finally {
        for (const s of [...suites].reverse()) {
          s.done++
          if (s.done === s.tests) {
            for (const h of s.afterAll) {
              try {
                await withTimeout(call(h), ms, 'afterAll')
              } catch { /* reported by no test */ }
            }
          }
        }
      }
    },
  })
}
test.skip = (name: string, _fn: Fn) => {
  Deno.test({ name, ignore: true, fn: () => {} })
}
test.only = test
test.each = (rows: unknown[]) => (name: string, fn: (...a: unknown[]) => unknown, t?: number) => {
  for (const row of rows) {
    const args = Array.isArray(row) ? row : [row]
    test(`${name} ${JSON.stringify(args)}`, () => fn(...args), t)
  }
}

const jest = {
  fn: (impl?: (...a: unknown[]) => unknown) => mocker.fn(impl as never),
  spyOn: (obj: object, method: string, access?: 'get' | 'set') =>
    mocker.spyOn(obj as never, method as never, access as never),
  // Module mocking needs jest's module registry: not available here, so jest.mock does nothing.
  mock: (_module: string, _factory?: unknown) => {},
  clearAllMocks: () => mocker.clearAllMocks(),
  resetAllMocks: () => mocker.resetAllMocks(),
  restoreAllMocks: () => mocker.restoreAllMocks(),
  setTimeout: (ms: number) => {
    defaultTimeout = ms
  },
}

Object.assign(globalThis, {
  describe,
  it: test,
  test,
  expect,
  jest,
  beforeEach: (fn: Fn) => current.beforeEach.push(fn),
  afterEach: (fn: Fn) => current.afterEach.push(fn),
  beforeAll: (fn: Fn) => current.beforeAll.push(fn),
  afterAll: (fn: Fn) => current.afterAll.push(fn),
})

// jest does not fail a run for a rejection handled late (or never): only log it.
globalThis.addEventListener('unhandledrejection', (event) => {
  event.preventDefault()
  // deno-lint-ignore no-console -- the shim reports what jest would
  console.error(
    '[shim] unhandled rejection:',
    String((event as PromiseRejectionEvent).reason).slice(0, 200),
  )
})
