// The stage of the hostile-peer tests: a real coordinator process, one agent whose
// containers are reached through the coordinator, and a well-behaved client that
// keeps requesting while an attacker does its worst. It measures what the issue
// asks for: the coordinator stays up, its RSS, whether the agent was dropped, and
// the p99 of the well-behaved requests during the attack.
import assert from 'node:assert/strict'
import { createNetworkClient, type NetworkClient } from '../../client/mod.ts'
import { type Header, parseMessage } from '../../rpc/_frames.ts'
import { DealerSocket, type DealerSocketOptions, type Transport } from '../../rpc/mod.ts'
import { type Proc, startAgent, startCoordinator } from '../integration/_process.ts'

/** The transports every attack test runs on (the coordinator's and the attacker's). */
export const transports: Transport[] = ['zmtp', 'libzmq']

/** What one attack did to the coordinator and to the well-behaved peers. */
export interface AttackReport {
  rssBeforeBytes: number
  rssPeakBytes: number
  requests: number
  failures: number
  p99Ms: number
  maxMs: number
  agentDropped: boolean
  coordinatorUp: boolean
}

/** A coordinator on `transport` with an agent, a client, and a loop of well-behaved requests. */
export class AttackStage implements AsyncDisposable {
  readonly coordinator: Proc
  readonly endpoint: string
  readonly httpUrl: string
  readonly #agent: Proc
  readonly #client: NetworkClient
  readonly #transport: Transport
  #agentDropped = false
  readonly #sockets: DealerSocket[] = []

  private constructor(
    coordinator: Proc,
    endpoint: string,
    httpUrl: string,
    agent: Proc,
    client: NetworkClient,
    transport: Transport,
  ) {
    this.#transport = transport
    this.coordinator = coordinator
    this.endpoint = endpoint
    this.httpUrl = httpUrl
    this.#agent = agent
    this.#client = client
    client.onUpdate((event) => {
      if (event.agents.some((change) => change.type === 'removed')) this.#agentDropped = true
    })
  }

  /** Starts the coordinator (with `flags`), an agent and a client. */
  static async start(transport: Transport, flags: string[] = []): Promise<AttackStage> {
    const { proc, endpoint } = await startCoordinator(0, ['--transport', transport, ...flags])
    const http = await proc.waitFor(/http endpoint on (http:\/\/\S+)/)
    let agent: Proc | undefined
    try {
      agent = await startAgent(endpoint, 'agent-1', 'network')
      const client = await createNetworkClient(endpoint, {
        clientId: 'well-behaved',
        timeouts: { aliveTimeoutMs: 2000, pingIntervalMs: 500, requestTimeoutMs: 10_000 },
      })
      return new AttackStage(proc, endpoint, http[1], agent, client, transport)
    } catch (error) {
      await agent?.stop()
      await proc.stop()
      throw error
    }
  }

  /** A raw DEALER that keeps the headers of what the coordinator answers it. */
  attacker(): { socket: DealerSocket; received: Header[] } {
    const received: Header[] = []
    const socket = this.dealer({
      // It unpacks batches as rpc peers do (a libzmq coordinator batches its replies).
      batch: true,
      onMessage: (frames) => received.push(parseMessage(frames).header),
    })
    return { socket, received }
  }

  /**
   * A raw DEALER connected to the coordinator, for attackers that speak ZeroMQ; closed
   * with the stage.
   */
  dealer(options: DealerSocketOptions = {}): DealerSocket {
    const socket = new DealerSocket({ linger: 0, transport: this.#transport, ...options })
    this.#sockets.push(socket)
    socket.connect(this.endpoint)
    return socket
  }

  /**
   * Runs `attack` while the client requests in a loop and RSS is sampled; the
   * attack's promise ends the measurement. Requests go through the coordinator.
   */
  async measure(attack: () => Promise<void>): Promise<AttackReport> {
    const ref = await this.#client.get('echo', { uuid: 'steady' })
    await ref.request('echo', 'warm up')
    const rssBeforeBytes = await this.coordinator.rss()
    let rssPeakBytes = rssBeforeBytes
    const latencies: number[] = []
    let failures = 0
    let running = true
    const sampler = (async () => {
      while (running) {
        rssPeakBytes = Math.max(rssPeakBytes, await this.coordinator.rss().catch(() => 0))
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()
    const requester = (async () => {
      for (let i = 0; running; i++) {
        const started = performance.now()
        try {
          assert.equal(await ref.request('echo', i), i)
        } catch {
          failures++
        }
        latencies.push(performance.now() - started)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    try {
      await attack()
    } finally {
      running = false
      await Promise.all([sampler, requester])
    }
    latencies.sort((a, b) => a - b)
    const exited = await Promise.race([
      this.coordinator.done.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10)),
    ])
    return {
      rssBeforeBytes,
      rssPeakBytes,
      requests: latencies.length,
      failures,
      p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? Infinity,
      maxMs: latencies.at(-1) ?? Infinity,
      agentDropped: this.#agentDropped,
      coordinatorUp: !exited,
    }
  }

  /** The value of `huly_network_refused_total{limit="…"}` now. */
  refused(limit: string): Promise<number> {
    return this.metric(`huly_network_refused_total{limit="${limit}"}`)
  }

  /** The value of one series of `/metrics` now (0 when absent). */
  async metric(series: string): Promise<number> {
    const text = await (await fetch(`${this.httpUrl}/metrics`)).text()
    const line = text.split('\n').find((line) => line.startsWith(`${series} `))
    return line === undefined ? 0 : Number(line.slice(series.length + 1))
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#sockets.map((socket) => socket.close()))
    await this.#client.close().catch(() => {})
    await this.#agent.stop()
    await this.coordinator.stop()
  }
}

/** Asserts the common acceptance of every attack, and logs the figures for the report. */
export function assertSurvived(
  what: string,
  report: AttackReport,
  bounds: { rssGrowthMiB: number; p99Ms: number },
): void {
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
  // deno-lint-ignore no-console -- the figures of the attack, for the report
  console.log(
    `${what}: RSS ${mib(report.rssBeforeBytes)} -> ${mib(report.rssPeakBytes)} MiB, ` +
      `${report.requests} requests (${report.failures} failed), p99 ${
        report.p99Ms.toFixed(1)
      } ms, max ${report.maxMs.toFixed(1)} ms`,
  )
  assert.ok(report.coordinatorUp, 'the coordinator exited')
  assert.ok(!report.agentDropped, 'the well-behaved agent was dropped')
  assert.equal(report.failures, 0, 'well-behaved requests failed')
  assert.ok(report.requests > 10, `only ${report.requests} well-behaved requests went through`)
  assert.ok(
    report.rssPeakBytes - report.rssBeforeBytes < bounds.rssGrowthMiB * 1024 * 1024,
    `RSS grew by ${mib(report.rssPeakBytes - report.rssBeforeBytes)} MiB`,
  )
  assert.ok(report.p99Ms < bounds.p99Ms, `p99 ${report.p99Ms.toFixed(1)} ms`)
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
