// Starts real deno processes for the integration tests, reads their output line by
// line, and always stops them.
import {
  type ContainerConnection,
  createNetworkClient,
  type NetworkClient,
  type NetworkClientOptions,
} from '../../client/mod.ts'
import { readyOrStopped, signalChild, stopChild } from '../_child.ts'
import { within } from '../_within.ts'

export { within }

const decoder = new TextDecoder()

/** A child `deno run` process whose stdout lines can be awaited; `await using` stops it. */
export class Proc implements AsyncDisposable {
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
    signalChild(this.#child, signal)
  }

  /** Stops the process (SIGTERM, then SIGKILL after 3 s) and waits for it. */
  stop(): Promise<void> {
    return stopChild(this.#child, this.#stderr)
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
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

/** A coordinator process and where it listens; `await using` stops it. */
export interface Coordinator extends AsyncDisposable {
  proc: Proc
  endpoint: string
  port: number
}

/** Starts a coordinator on `port` (0: any) with short timings; resolves with its endpoint. */
export async function startCoordinator(port = 0, extra: string[] = []): Promise<Coordinator> {
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
  const [, endpoint, bound] = await readyOrStopped(
    proc.waitFor(/listening on (tcp:\/\/[\d.]+:(\d+))/),
    () => proc.stop(),
  )
  return { proc, endpoint, port: Number(bound), [Symbol.asyncDispose]: () => proc.stop() }
}

/** What startNetwork starts. */
export interface TestNetworkOptions {
  /** More arguments of the coordinator. */
  coordinator?: string[]
  /** The ids of the echo agents to start, in this order. */
  agents?: string[]
  /** How the agents serve their containers. */
  mode?: 'direct' | 'network' | 'ha'
  /** Starts each agent (by default the echo agent, in `mode`). */
  agent?: (endpoint: string, id: string) => Promise<Proc>
  /** Options of the client; by default the short timings of the coordinator. */
  client?: NetworkClientOptions
}

/** A coordinator, its echo agents and a client; `await using` closes all, the client first. */
export class TestNetwork implements AsyncDisposable {
  constructor(
    /** The coordinator running now. */
    public coordinator: Proc,
    readonly endpoint: string,
    readonly port: number,
    /** The agents; those a test adds here are stopped with the others. */
    readonly agents: Proc[],
    readonly client: NetworkClient,
  ) {}

  /** Starts a coordinator again on the same port, once the test stopped the last one. */
  async restartCoordinator(): Promise<Proc> {
    this.coordinator = (await startCoordinator(this.port)).proc
    return this.coordinator
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.client.close()
    await Promise.all(this.agents.map((agent) => agent.stop()))
    await this.coordinator.stop()
  }
}

/** Starts a coordinator, then the echo agents, then a client connected to it. */
export async function startNetwork(options: TestNetworkOptions = {}): Promise<TestNetwork> {
  const { proc, endpoint, port } = await startCoordinator(0, options.coordinator)
  const agents: Proc[] = []
  try {
    const start = options.agent ?? ((endpoint, id) => startAgent(endpoint, id, options.mode))
    for (const id of options.agents ?? []) agents.push(await start(endpoint, id))
    const client = await createNetworkClient(
      endpoint,
      options.client ?? { timeouts: { aliveTimeoutMs: 2000, pingIntervalMs: 500 } },
    )
    return new TestNetwork(proc, endpoint, port, agents, client)
  } catch (error) {
    await Promise.all(agents.map((agent) => agent.stop()))
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
  await readyOrStopped(proc.waitFor(/^registered/), () => proc.stop())
  return proc
}

/**
 * Has the echo container behind `connection` emit `data` and waits up to 5 s for the
 * event, which is added to `events` (with any other that comes from now on).
 */
export async function emitTo(
  connection: ContainerConnection,
  events: unknown[],
  data: unknown,
  what: string,
): Promise<void> {
  const event = Promise.withResolvers<void>()
  connection.on = (data) => {
    events.push(data)
    event.resolve()
  }
  await connection.request('emit', data)
  await within(5_000, what, () => event.promise)
}
