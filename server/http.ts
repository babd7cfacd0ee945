/**
 * The coordinator's HTTP endpoint, on its own port: health, readiness, Prometheus
 * metrics, the state as JSON, a live stream of server-sent events, and the
 * dashboard page that reads them.
 *
 * @module
 */
import { getLogger } from '@logtape/logtape'
import type { TickManager } from '../common/clock.ts'
import { estimateQuantile } from '../observability/metrics.ts'
import type { NetworkEvent } from '../core/types.ts'
import { requireListenOptions, requirePort } from '../common/validate.ts'
import { dashboardPage } from './_dashboard.ts'
import { HttpListener } from './_http_listener.ts'
import type { RequestTotals } from './metrics.ts'
import type { NetworkServer } from './network_server.ts'
import { DEFAULT_HOST, DEFAULT_HTTP_PORT } from './_defaults.ts'

const logger = getLogger(['huly-network', 'server', 'http'])

/**
 * Options of an {@link HttpEndpoint}.
 *
 * @example
 * ```ts
 * import type { HttpEndpointOptions } from '@huly/network/server'
 * const options: HttpEndpointOptions = { host: '127.0.0.1', port: 3780 }
 * ```
 */
export interface HttpEndpointOptions {
  /** Address to bind (127.0.0.1). */
  host?: string
  /** Port to bind (3780; 0 picks a free one). */
  port?: number
  /** How often live statistics and changed state are pushed to the stream, in ms (1000). */
  streamIntervalMs?: number
  /** Live streams open at once; more are refused with 503 (64). */
  maxStreams?: number
  /** Bytes a live stream may hold unread; a reader that lets more pile up is cut off (4 MiB). */
  maxStreamBytes?: number
  /** Connections open at once; more are closed on accept (500; keep it below the fd limit). */
  maxConnections?: number
  /** Milliseconds a new connection has to send its request's headers (10 000). */
  headerTimeoutMs?: number
  /** Milliseconds a response waits on a peer that reads nothing before it is closed (60 000). */
  idleTimeoutMs?: number
}

/**
 * Requests of one (operation, kind) during the last stream interval.
 *
 * @example
 * ```ts
 * import type { RequestRate } from '@huly/network/server'
 * declare const rate: RequestRate
 * console.log(`${rate.operation} ${rate.kind}: ${rate.perSecond}/s, p99 ${rate.p99Ms} ms`)
 * ```
 */
export interface RequestRate {
  /** The protocol operation. */
  operation: string
  /** The container kind, or `''`. */
  kind: string
  /** Requests per second. */
  perSecond: number
  /** Failed requests per second. */
  errorsPerSecond: number
  /** Median latency in ms, estimated from the histogram (null without requests). */
  p50Ms: number | null
  /** 99th percentile latency in ms (null without requests). */
  p99Ms: number | null
  /** Requests since the coordinator started. */
  total: number
}

/**
 * Requests routed to one agent during the last stream interval.
 *
 * @example
 * ```ts
 * import type { AgentRate } from '@huly/network/server'
 * declare const rate: AgentRate
 * console.log(`${rate.agentId}: ${rate.perSecond}/s, ${rate.inFlight} in flight`)
 * ```
 */
export interface AgentRate {
  /** The agent. */
  agentId: string
  /** Requests routed to it per second. */
  perSecond: number
  /** Requests routed to it and not answered yet. */
  inFlight: number
}

/**
 * The `stats` message of the live stream.
 *
 * @example
 * ```ts
 * import type { LiveStats } from '@huly/network/server'
 * declare const stats: LiveStats
 * console.log(stats.requests.length, stats.rssBytes)
 * ```
 */
export interface LiveStats {
  /** When it was measured (ms since the epoch). */
  at: number
  /** The interval it covers, in ms. */
  intervalMs: number
  /** Requests per (operation, kind) in that interval. */
  requests: RequestRate[]
  /** Requests routed to each agent in that interval. */
  agents: AgentRate[]
  /** Resident memory of the coordinator. */
  rssBytes: number
}

interface Stream {
  controller: ReadableStreamDefaultController<Uint8Array>
}

const encoder = new TextEncoder()
const streamHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
}
const routes = new Set(['/', '/healthz', '/readyz', '/metrics', '/api/state', '/api/events'])

/**
 * Serves the coordinator over HTTP: `GET /healthz`, `/readyz`, `/metrics`,
 * `/api/state`, `/api/events` (server-sent events) and `/` (the dashboard).
 * Anything else gets 404 (unknown path) or 405 (another method).
 *
 * @example
 * ```ts ignore
 * import { NetworkImpl, TickManagerImpl } from '@huly/network/core'
 * import { HttpEndpoint, NetworkServer } from '@huly/network/server'
 * const clock = new TickManagerImpl(10)
 * clock.start()
 * const server = new NetworkServer(new NetworkImpl(clock), clock, { port: 0 })
 * const http = new HttpEndpoint(server, clock, { port: 0 })
 * console.log(await (await fetch(`${http.url}/metrics`)).text())
 * await http.close()
 * await server.close()
 * clock.stop()
 * ```
 */
export class HttpEndpoint {
  /** Where it listens, such as `http://127.0.0.1:3780`. */
  readonly url: string
  readonly #server: NetworkServer
  readonly #http: HttpListener
  readonly #streams = new Set<Stream>()
  readonly #maxStreams: number
  readonly #maxStreamBytes: number
  readonly #intervalMs: number
  readonly #unregisterTick: () => void
  readonly #unsubscribe: () => void
  #previousTotals = new Map<string, RequestTotals>()
  #previousAgents = new Map<string, number>()
  #previousAt = performance.now()
  #lastState = ''
  #nextStateAt = 0
  #closed = false

  /** Binds `host:port` and serves `server`; throws when it cannot listen. */
  constructor(server: NetworkServer, clock: TickManager, options: HttpEndpointOptions = {}) {
    requireListenOptions(options, 'new HttpEndpoint(server, clock, { host, port })')
    const host = options.host ?? DEFAULT_HOST
    const port = requirePort(options.port ?? DEFAULT_HTTP_PORT)
    this.#server = server
    this.#maxStreams = options.maxStreams ?? 64
    this.#maxStreamBytes = options.maxStreamBytes ?? 4 * 1024 * 1024
    this.#intervalMs = options.streamIntervalMs ?? 1000
    const listener = Deno.listen({ hostname: host, port })
    this.#http = new HttpListener(
      listener,
      (request) => this.#respond(request),
      {
        maxConnections: options.maxConnections ?? 500,
        headerTimeoutMs: options.headerTimeoutMs ?? 10_000,
        idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      },
      (limit, detail) => server.metrics.refuse(limit, detail),
    )
    const { hostname, port: bound } = listener.addr
    this.url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${bound}`
    this.#unregisterTick = clock.every(() => this.#tick(), this.#intervalMs)
    this.#unsubscribe = server.network.subscribe((event) => this.#change(event))
    logger.info('HTTP endpoint listening on {url}', { url: this.url })
  }

  /** Ends every live stream and stops listening. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#unregisterTick()
    this.#unsubscribe()
    for (const stream of [...this.#streams]) this.#end(stream)
    await this.#http.close()
  }

  #respond(request: Request): Response {
    try {
      return this.#route(request)
    } catch (error) {
      logger.error('an HTTP request failed: {error}', { error })
      return new Response('internal error\n', { status: 500 })
    }
  }

  #route(request: Request): Response {
    const { pathname } = new URL(request.url)
    if (!routes.has(pathname)) return text(404, 'not found\n')
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('method not allowed\n', {
        status: 405,
        headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' },
      })
    }
    switch (pathname) {
      case '/healthz':
        return text(200, 'ok\n')
      case '/readyz':
        return this.#server.ready ? text(200, 'ready\n') : text(503, 'not ready\n')
      case '/metrics':
        return new Response(this.#server.metrics.registry.render(), {
          headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
        })
      case '/api/state':
        return json(this.#server.state())
      case '/api/events':
        return request.method === 'HEAD'
          ? new Response(null, { headers: streamHeaders })
          : this.#openStream()
      default:
        return new Response(dashboardPage, {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            // The page loads nothing from anywhere: inline style and script only.
            'content-security-policy':
              "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:",
          },
        })
    }
  }

  #openStream(): Response {
    if (this.#streams.size >= this.#maxStreams) return text(503, 'too many live streams\n')
    let stream: Stream | undefined
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        stream = { controller }
        this.#streams.add(stream)
        this.#send(stream, 'state', this.#streamState())
      },
      cancel: () => {
        if (stream !== undefined) this.#streams.delete(stream)
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: this.#maxStreamBytes }))
    return new Response(body, { headers: streamHeaders })
  }

  /** Sends one message; a reader that lets more than the byte bound pile up is cut off. */
  #send(stream: Stream, event: string, data: string | Uint8Array): void {
    const chunk = typeof data === 'string' ? sseMessage(event, data) : data
    if (chunk.byteLength > (stream.controller.desiredSize ?? 0)) {
      this.#server.metrics.refuse(
        'http-stream-bytes',
        `a live stream reader let ${this.#maxStreamBytes} bytes pile up; it is closed`,
      )
      this.#end(stream)
      return
    }
    try {
      stream.controller.enqueue(chunk)
    } catch {
      this.#end(stream) // the reader went away
    }
  }

  #end(stream: Stream): void {
    this.#streams.delete(stream)
    try {
      stream.controller.close()
    } catch {
      // already closed by the reader
    }
  }

  #broadcast(event: string, data: string): void {
    const chunk = sseMessage(event, data)
    for (const stream of [...this.#streams]) this.#send(stream, event, chunk)
  }

  #change(event: NetworkEvent): void {
    if (this.#streams.size > 0) {
      this.#broadcast('change', JSON.stringify({ at: Date.now(), ...event }))
    }
  }

  /** Once per interval: live statistics, and the state when it changed. */
  #tick(): void {
    const stats = this.#stats()
    if (this.#streams.size === 0) return
    this.#broadcast('stats', JSON.stringify(stats))
    const started = performance.now()
    if (started < this.#nextStateAt) return
    const state = this.#streamState()
    // A large network takes long to describe: spend at most a tenth of the time on it.
    this.#nextStateAt = started + 10 * (performance.now() - started)
    if (state === this.#lastState) return
    this.#lastState = state
    this.#broadcast('state', state)
  }

  /**
   * The state as the stream sends it: without the time and the agents' request
   * counts (the `stats` message has their rates), so it changes only when the
   * network does, and is sent again only then.
   */
  #streamState(): string {
    const { at: _at, agents, ...rest } = this.#server.state()
    const stable = agents.map(({ requests: _requests, inFlight: _inFlight, ...agent }) => agent)
    return JSON.stringify({ ...rest, agents: stable })
  }

  /** Rates and latencies since the previous call, from the request histograms. */
  #stats(): LiveStats {
    const now = performance.now()
    const seconds = Math.max(0.001, (now - this.#previousAt) / 1000)
    const buckets = this.#server.metrics.buckets
    const totals = new Map<string, RequestTotals>()
    const requests: RequestRate[] = []
    for (const current of this.#server.metrics.requestTotals()) {
      const key = `${current.operation} ${current.kind}`
      totals.set(key, current)
      const before = this.#previousTotals.get(key)
      const delta = current.buckets.map((count, i) => count - (before?.buckets[i] ?? 0))
      const count = current.count - (before?.count ?? 0)
      const quantile = (q: number) =>
        count === 0 ? null : round(estimateQuantile(buckets, delta, q) * 1000)
      requests.push({
        operation: current.operation,
        kind: current.kind,
        perSecond: round(count / seconds),
        errorsPerSecond: round((current.errors - (before?.errors ?? 0)) / seconds),
        p50Ms: quantile(0.5),
        p99Ms: quantile(0.99),
        total: current.count,
      })
    }
    const agentTotals = new Map<string, number>()
    const agents = this.#server.agentLoads().map(({ agentId, requests, inFlight }) => {
      agentTotals.set(agentId, requests)
      // An agent not seen at the previous tick registered since: all its requests are new.
      const before = this.#previousAgents.get(agentId) ?? 0
      return { agentId, perSecond: round((requests - before) / seconds), inFlight }
    })
    this.#previousTotals = totals
    this.#previousAgents = agentTotals
    this.#previousAt = now
    return {
      at: Date.now(),
      intervalMs: Math.round(seconds * 1000),
      requests,
      agents,
      rssBytes: Deno.memoryUsage().rss,
    }
  }
}

function sseMessage(event: string, data: string): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${data}\n\n`)
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })
}

function json(value: unknown): Response {
  return new Response(JSON.stringify(value), {
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  })
}
