/**
 * Stopping the child processes the tests start, shared by every test folder.
 *
 * @module
 */

/** Sends `signal` to `child`; a child that is gone already is no error. */
export function signalChild(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal)
  } catch {
    // already exited
  }
}

/**
 * Stops `child` (SIGTERM, then SIGKILL after 3 s) and resolves once it has exited and
 * `drained`, the reading of its output, is done. Safe to call at any time.
 */
export async function stopChild(
  child: Deno.ChildProcess,
  drained: Promise<unknown>,
): Promise<void> {
  signalChild(child, 'SIGTERM')
  const timer = setTimeout(() => signalChild(child, 'SIGKILL'), 3000)
  await child.status
  clearTimeout(timer)
  await drained
}

/**
 * Resolves as `ready` does (a process saying it is up); when it fails, stops the process
 * with `stop` first, so that a failed start leaves nothing running.
 */
export async function readyOrStopped<T>(ready: Promise<T>, stop: () => Promise<void>): Promise<T> {
  try {
    return await ready
  } catch (error) {
    await stop()
    throw error
  }
}
