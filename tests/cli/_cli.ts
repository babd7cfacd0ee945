// Runs the CLI (and other deno programs) as a user would: real processes, their
// stdout and stderr read line by line, always stopped.
import denoJson from '../../deno.json' with { type: 'json' }
import { readyOrStopped, signalChild, stopChild } from '../_child.ts'

/** The repository root. */
export const root: string = new URL('../../', import.meta.url).pathname

/**
 * The permission flags of the `net` task but `--allow-run`, which it adds for the
 * `bench` command alone (it starts processes): the image, the compiled binary and
 * these tests run the CLI with exactly these.
 */
export const cliPermissions: string[] = denoJson.tasks.net.split(/\s+/).filter((word) =>
  word.startsWith('--allow-') && word !== '--allow-run'
)

const cliPath = new URL('../../cli/main.ts', import.meta.url).pathname

/** Environment variables the tests must not inherit (they configure the CLI). */
const cleared = [
  'HULY_NETWORK_ADDRESS',
  'HULY_NETWORK_PORT',
  'HULY_NETWORK_HOST',
  'HULY_NETWORK_CONNECT_TIMEOUT',
]

function environment(env: Record<string, string>): Record<string, string> {
  const base = Deno.env.toObject()
  for (const name of cleared) delete base[name]
  return { ...base, NO_COLOR: '1', ...env }
}

/** A running process whose output lines can be awaited; `await using` stops it. */
export class Running implements AsyncDisposable {
  readonly stdout: string[] = []
  readonly stderr: string[] = []
  readonly status: Promise<Deno.CommandStatus>
  readonly startedAt = performance.now()
  readonly #child: Deno.ChildProcess
  readonly #waiters = new Set<() => void>()
  readonly #reading: Promise<void>

  constructor(readonly name: string, command: string, args: string[], options: RunOptions = {}) {
    this.#child = new Deno.Command(command, {
      args,
      cwd: options.cwd ?? root,
      env: environment(options.env ?? {}),
      stdin: 'null',
      stdout: 'piped',
      stderr: 'piped',
    }).spawn()
    this.status = this.#child.status
    this.#reading = Promise.all([
      this.#read(this.#child.stdout, this.stdout),
      this.#read(this.#child.stderr, this.stderr),
    ]).then(() => {})
  }

  /** The first line of stdout (or stderr) matching `pattern`, waiting up to `timeoutMs`. */
  async waitFor(
    pattern: RegExp,
    { stream = 'stdout', timeoutMs = 15_000 }: {
      stream?: 'stdout' | 'stderr'
      timeoutMs?: number
    } = {},
  ): Promise<RegExpMatchArray> {
    const lines = stream === 'stdout' ? this.stdout : this.stderr
    const deadline = performance.now() + timeoutMs
    for (let seen = 0;;) {
      for (; seen < lines.length; seen++) {
        const match = lines[seen].match(pattern)
        if (match) return match
      }
      const left = deadline - performance.now()
      if (left <= 0) {
        throw new Error(
          `${this.name}: no ${stream} line matching ${pattern} in ${timeoutMs} ms\nstdout:\n${
            this.stdout.join('\n')
          }\nstderr:\n${this.stderr.join('\n')}`,
        )
      }
      const { promise, resolve } = Promise.withResolvers<void>()
      this.#waiters.add(resolve)
      const timer = setTimeout(resolve, left)
      await promise
      clearTimeout(timer)
      this.#waiters.delete(resolve)
    }
  }

  /** Sends a signal (ignored when the process is gone). */
  kill(signal: Deno.Signal): void {
    signalChild(this.#child, signal)
  }

  /** Waits for the exit; its code and how long after `since` (ms) it came. */
  async exited(since = this.startedAt): Promise<{ code: number; ms: number }> {
    const status = await this.status
    await this.#reading
    return { code: status.code, ms: performance.now() - since }
  }

  /** SIGTERM, SIGKILL after 3 s, and waits: always safe to call. */
  stop(): Promise<void> {
    return stopChild(this.#child, this.#reading)
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
  }

  async #read(stream: ReadableStream<Uint8Array>, lines: string[]): Promise<void> {
    let buffer = ''
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk
      let newline
      while ((newline = buffer.indexOf('\n')) >= 0) {
        lines.push(buffer.slice(0, newline))
        buffer = buffer.slice(newline + 1)
        for (const wake of this.#waiters) wake()
      }
    }
    if (buffer !== '') lines.push(buffer)
    for (const wake of this.#waiters) wake()
  }
}

/** Options of a process. */
export interface RunOptions {
  /** Extra environment variables. */
  env?: Record<string, string>
  /** The working directory (the repository root). */
  cwd?: string
}

/** Starts `deno run <task permissions> cli/main.ts …args`. */
export function startCli(args: string[], options: RunOptions = {}): Running {
  return new Running(`cli ${args[0]}`, Deno.execPath(), [
    'run',
    ...cliPermissions,
    cliPath,
    ...args,
  ], options)
}

/** Runs one CLI command to its end (killed after `timeoutMs`). */
export async function runCli(
  args: string[],
  options: RunOptions & { timeoutMs?: number } = {},
): Promise<{ code: number; ms: number; stdout: string[]; stderr: string[] }> {
  const running = startCli(args, options)
  const timer = setTimeout(() => running.kill('SIGKILL'), options.timeoutMs ?? 20_000)
  try {
    const { code, ms } = await running.exited()
    return { code, ms, stdout: running.stdout, stderr: running.stderr }
  } finally {
    clearTimeout(timer)
    await running.stop()
  }
}

/** A `serve` process and where it listens; `await using` stops it. */
export interface Serving extends AsyncDisposable {
  serve: Running
  address: string
  port: number
}

/** Starts `serve` on a free port with `args`; resolves once it listens. */
export async function startServe(args: string[] = [], options: RunOptions = {}): Promise<Serving> {
  const serve = startCli(
    ['serve', '--port', '0', '--http-port', '0', '--log-level', 'warning', ...args],
    options,
  )
  const [, address, port] = await readyOrStopped(
    serve.waitFor(/listening on tcp:\/\/(127\.0\.0\.1:(\d+))$/),
    () => serve.stop(),
  )
  return { serve, address, port: Number(port), [Symbol.asyncDispose]: () => serve.stop() }
}

/** A port nobody listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 })
  const port = (listener.addr as Deno.NetAddr).port
  listener.close()
  return port
}
