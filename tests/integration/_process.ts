// Starts real deno processes for the integration tests, reads their output line by
// line, and always stops them.
const decoder = new TextDecoder()

/** A child `deno run` process whose stdout lines can be awaited. */
export class Proc {
  readonly lines: string[] = []
  readonly #child: Deno.ChildProcess
  readonly #waiters = new Set<{ pattern: RegExp; resolve: (match: RegExpMatchArray) => void }>()
  readonly done: Promise<Deno.CommandStatus>
  readonly #stderr: Promise<string>

  /** Runs `script` with `args`; inside the network namespace `netns` when given. */
  constructor(readonly name: string, script: string, args: string[] = [], netns?: string) {
    const url = new URL(script, import.meta.url)
    const command = [Deno.execPath(), 'run', '--allow-all', url.pathname, ...args]
    if (netns !== undefined) command.unshift('ip', 'netns', 'exec', netns)
    this.#child = new Deno.Command(command[0], {
      args: command.slice(1),
      stdin: 'null',
      stdout: 'piped',
      stderr: 'piped',
      env: { NO_COLOR: '1', HULY_TEST_DEBUG: Deno.env.get('HULY_TEST_DEBUG') ?? '' },
    }).spawn()
    this.done = this.#child.status
    void this.#read()
    this.#stderr = new Response(this.#child.stderr).text().catch(() => '')
  }

  /** Resolves with the first line (seen or to come) that matches, or fails after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const match = line.match(pattern)
      if (match) return Promise.resolve(match)
    }
    const { promise, resolve, reject } = Promise.withResolvers<RegExpMatchArray>()
    const waiter = { pattern, resolve }
    this.#waiters.add(waiter)
    const timer = setTimeout(async () => {
      this.#waiters.delete(waiter)
      reject(
        new Error(
          `${this.name}: no line matching ${pattern} in ${timeoutMs} ms; stderr:\n${await this
            .stderrSoFar()}`,
        ),
      )
    }, timeoutMs)
    return promise.finally(() => clearTimeout(timer))
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid
  }

  /** Resident memory of the process in bytes (from `ps`, which needs no read permission). */
  async rss(): Promise<number> {
    const { stdout } = await new Deno.Command('ps', {
      args: ['-o', 'rss=', '-p', String(this.pid)],
    })
      .output()
    return Number(new TextDecoder().decode(stdout).trim()) * 1024
  }

  /** Lines matching `pattern`. */
  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length
  }

  kill(signal: Deno.Signal = 'SIGKILL'): void {
    try {
      this.#child.kill(signal)
    } catch {
      // already exited
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL after 3 s) and waits for it. */
  async stop(): Promise<void> {
    this.kill('SIGTERM')
    const timer = setTimeout(() => this.kill('SIGKILL'), 3000)
    await this.done
    clearTimeout(timer)
    await this.#stderr
  }

  stderrSoFar(): Promise<string> {
    return Promise.race([
      this.#stderr,
      new Promise<string>((r) => setTimeout(() => r('(running)'), 10)),
    ])
  }

  async #read(): Promise<void> {
    let buffer = ''
    for await (const chunk of this.#child.stdout) {
      buffer += decoder.decode(chunk, { stream: true })
      let newline
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        this.lines.push(line)
        for (const waiter of this.#waiters) {
          const match = line.match(waiter.pattern)
          if (match) {
            this.#waiters.delete(waiter)
            waiter.resolve(match)
          }
        }
      }
    }
  }
}

/** Starts a coordinator on `port` (0: any) with short timings; resolves with its endpoint. */
export async function startCoordinator(
  port = 0,
  extra: string[] = [],
): Promise<{ proc: Proc; endpoint: string; port: number }> {
  const proc = new Proc('coordinator', '../../cli/serve.ts', [
    '--port',
    String(port),
    '--alive-timeout',
    '2',
    '--unused-timeout',
    '1',
    '--ping-interval',
    '0.5',
    '--log-level',
    'warning',
    '--http-port',
    '0',
    ...extra,
  ])
  try {
    const match = await proc.waitFor(/listening on (tcp:\/\/[\d.]+:(\d+))/)
    return { proc, endpoint: match[1], port: Number(match[2]) }
  } catch (error) {
    await proc.stop()
    throw error
  }
}

/** Starts the test echo agent against `network`; resolves once it registered. */
export async function startAgent(
  network: string,
  agentId: string,
  mode: 'direct' | 'network' | 'ha' = 'direct',
  netns?: { name: string; listen: string },
): Promise<Proc> {
  const args = [network, agentId, mode, ...(netns ? [netns.listen] : [])]
  const proc = new Proc(agentId, './_echo_agent.ts', args, netns?.name)
  try {
    await proc.waitFor(/^registered/)
  } catch (error) {
    await proc.stop()
    throw error
  }
  return proc
}

/** Runs `fn` and fails it if it takes longer than `ms`. */
export async function within<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([fn(), timeout])
  } finally {
    clearTimeout(timer)
  }
}
