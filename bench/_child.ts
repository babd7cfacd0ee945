// Child processes of the benchmarks: `deno run` scripts whose stdout lines can be
// awaited, always stopped by their pid.

const v8Flags = Deno.env.get('HULY_BENCH_V8_FLAGS')

/**
 * The V8 flags the tasks, the image and the compiled binary run with, so the
 * benchmark measures processes as they are shipped: a young generation of 1 MiB
 * (interleaved runs: 55 MiB less RSS per process, the same throughput).
 */
const shippedV8Flags = ['--max-semi-space-size=1']

/**
 * The flags the benchmark processes run with; HULY_BENCH_V8_FLAGS adds V8 flags to
 * each (for instance `--prof`, to profile every process of a run).
 */
export const runFlags: string[] = flagsWith()

/** `deno run` flags with `extra` V8 flags added to those of HULY_BENCH_V8_FLAGS. */
function flagsWith(...extra: string[]): string[] {
  const v8 = [...shippedV8Flags, ...(v8Flags ? [v8Flags] : []), ...extra].join(',')
  return [
    'run',
    '--allow-read',
    '--allow-ffi',
    '--allow-env',
    '--allow-net',
    ...(v8 ? [`--v8-flags=${v8}`] : []),
  ]
}

/** The p-th percentile of sorted samples. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/**
 * The environment added to every child's (which inherits this process's); the
 * load benchmark sets `HULY_NETWORK_TRANSPORT` in it to pick the transport.
 */
export const childEnvironment: Record<string, string> = { NO_COLOR: '1' }

/** A child process whose stdout lines can be awaited. */
export class Child {
  readonly #process: Deno.ChildProcess
  readonly #lines: string[] = []
  #wake: () => void = () => {}
  readonly #ended: Promise<void>

  constructor(readonly name: string, args: string[], stdin: 'null' | 'piped' = 'null') {
    this.#process = new Deno.Command(Deno.execPath(), {
      args,
      stdin,
      stdout: 'piped',
      stderr: 'inherit',
      env: { ...childEnvironment },
    }).spawn()
    this.#ended = this.#read()
  }

  get pid(): number {
    return this.#process.pid
  }

  /** Writes one line to the process's stdin (started with `stdin: 'piped'`). */
  async send(line: string): Promise<void> {
    const writer = this.#process.stdin.getWriter()
    await writer.write(new TextEncoder().encode(`${line}\n`))
    writer.releaseLock()
  }

  /** Lines seen so far. */
  get lines(): readonly string[] {
    return this.#lines
  }

  /** The first line matching `pattern`; fails when the process ends without one. */
  async line(pattern: RegExp, timeoutMs = 120_000, from = 0): Promise<RegExpMatchArray> {
    const until = performance.now() + timeoutMs
    let ended = false
    void this.#ended.then(() => {
      ended = true
      this.#wake()
    })
    for (let seen = from;;) {
      for (; seen < this.#lines.length; seen++) {
        const match = this.#lines[seen].match(pattern)
        if (match) return match
      }
      if (ended) throw new Error(`${this.name} ended without a line matching ${pattern}`)
      if (performance.now() > until) throw new Error(`${this.name}: no line matching ${pattern}`)
      await new Promise<void>((resolve) => {
        this.#wake = resolve
        setTimeout(resolve, 100)
      })
    }
  }

  async #read(): Promise<void> {
    let buffer = ''
    for await (const chunk of this.#process.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk
      let newline
      while ((newline = buffer.indexOf('\n')) >= 0) {
        this.#lines.push(buffer.slice(0, newline))
        buffer = buffer.slice(newline + 1)
      }
      this.#wake()
    }
  }

  /** Resident memory in MiB (from `ps`, which needs no read permission). */
  async rssMiB(): Promise<number> {
    const { stdout } = await new Deno.Command('ps', {
      args: ['-o', 'rss=', '-p', String(this.pid)],
    })
      .output()
    return Math.round(Number(new TextDecoder().decode(stdout).trim()) / 1024 * 10) / 10
  }

  /** SIGTERM, then SIGKILL after 3 s; waits for the exit. */
  async stop(): Promise<void> {
    const kill = (signal: Deno.Signal) => {
      try {
        this.#process.kill(signal)
      } catch {
        // already exited
      }
    }
    kill('SIGTERM')
    const timer = setTimeout(() => kill('SIGKILL'), 3000)
    await this.#process.status
    clearTimeout(timer)
    await this.#ended.catch(() => {})
  }
}

/** Starts a coordinator on a free port with `args`; resolves with it and its endpoint. */
export async function startCoordinatorChild(
  args: string[] = [],
): Promise<{ coordinator: Child; network: string }> {
  const coordinator = new Child('coordinator', [
    ...flagsWith('--expose-gc'),
    new URL('_coordinator.ts', import.meta.url).pathname,
    '--port',
    '0',
    '--log-level',
    'warning',
    ...args,
    '--no-http',
  ], 'piped')
  try {
    const network = (await coordinator.line(/listening on (tcp:\/\/\S+)/))[1]
    return { coordinator, network }
  } catch (error) {
    await coordinator.stop()
    throw error
  }
}

/** The coordinator's V8 heap in use after garbage collection, in bytes (see `_coordinator.ts`). */
export async function coordinatorHeap(coordinator: Child): Promise<number> {
  const from = coordinator.lines.length
  await coordinator.send('heap')
  return Number((await coordinator.line(/^heap (-?\d+)/, 30_000, from))[1])
}
