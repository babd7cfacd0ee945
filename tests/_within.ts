/**
 * The bound every test that could hang puts on its waits, shared by all test folders.
 *
 * @module
 */

/**
 * Resolves as `work` does (a promise, or a function that makes one), or fails with
 * "`what`: not done in `ms` ms" when it takes longer.
 */
export async function within<T>(
  ms: number,
  what: string,
  work: Promise<T> | (() => Promise<T>),
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([typeof work === 'function' ? work() : work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
