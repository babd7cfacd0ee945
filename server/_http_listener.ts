// A small HTTP/1.1 server on Deno.listen for the coordinator's HTTP endpoint, so
// that accepting, the connection count and the timeouts are ours: Deno.serve gives
// no header timeout and no connection limit, and an accept that fails for want of
// file descriptors ends the process. One request per connection (`connection:
// close`): the endpoint serves a scrape, a state, a page or one live stream.
import { getLogger } from '@logtape/logtape'

const logger = getLogger(['huly-network', 'server', 'http'])

/** The limits of an {@link HttpListener}. */
export interface HttpListenerLimits {
  /** Connections open at once; more are closed on accept. */
  maxConnections: number
  /** Milliseconds a connection has to send its request's headers. */
  headerTimeoutMs: number
  /** Milliseconds a response may wait on a peer that does not read before it is closed. */
  idleTimeoutMs: number
}

/** Bytes of a request's line and headers at most. */
const MAX_HEADER_BYTES = 16 * 1024
/** Milliseconds accepting pauses after it failed (out of file descriptors, say). */
const ACCEPT_RETRY_MS = 100

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Serves `handler` on `listener` within `limits`; `refuse` counts what a limit refused. */
export class HttpListener {
  readonly #listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>
  readonly #handler: (request: Request) => Response
  readonly #limits: HttpListenerLimits
  readonly #refuse: (limit: string, detail: string) => void
  readonly #connections = new Set<Deno.Conn>()
  readonly #accepting: Promise<void>
  #closed = false

  /** Starts accepting on `listener`. */
  constructor(
    listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>,
    handler: (request: Request) => Response,
    limits: HttpListenerLimits,
    refuse: (limit: string, detail: string) => void,
  ) {
    this.#listener = listener
    this.#handler = handler
    this.#limits = limits
    this.#refuse = refuse
    this.#accepting = this.#accept()
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    this.#closed = true
    closeQuietly(this.#listener)
    for (const connection of this.#connections) closeQuietly(connection)
    await this.#accepting
  }

  /** An accept that fails is counted and logged, and accepting goes on: never an exit. */
  async #accept(): Promise<void> {
    while (!this.#closed) {
      let connection
      try {
        connection = await this.#listener.accept()
      } catch (error) {
        if (this.#closed) return
        this.#refuse('http-accept', `accepting an HTTP connection failed: ${error}`)
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS))
        continue
      }
      if (this.#connections.size >= this.#limits.maxConnections) {
        this.#refuse('http-connections', `${this.#limits.maxConnections} HTTP connections are open`)
        closeQuietly(connection)
        continue
      }
      this.#connections.add(connection)
      void this.#serve(connection).finally(() => {
        this.#connections.delete(connection)
        closeQuietly(connection)
      })
    }
  }

  async #serve(connection: Deno.Conn): Promise<void> {
    const head = await withTimeout(readHead(connection), this.#limits.headerTimeoutMs)
    if (head === undefined) {
      this.#refuse(
        'http-header-timeout',
        `no request headers in ${this.#limits.headerTimeoutMs} ms`,
      )
      return
    }
    const request = parseHead(head)
    const response = request === undefined
      ? new Response('bad request\n', { status: 400 })
      : this.#handler(request)
    await this.#write(connection, response, request?.method === 'HEAD')
  }

  async #write(connection: Deno.Conn, response: Response, headOnly: boolean): Promise<void> {
    let head = `HTTP/1.1 ${response.status} ${response.statusText || 'OK'}\r\n`
    for (const [name, value] of response.headers) head += `${name}: ${value}\r\n`
    head += 'connection: close\r\n\r\n'
    const write = (bytes: Uint8Array) => this.#writeAll(connection, bytes)
    if (!await write(encoder.encode(head)) || headOnly || response.body === null) {
      await response.body?.cancel()
      return
    }
    const reader = response.body.getReader()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done || !await write(value)) return
      }
    } finally {
      // Cancelling an errored body rejects with the error the read above threw.
      await reader.cancel().catch((error) =>
        logger.debug('cancelling a response body failed: {error}', { error })
      )
    }
  }

  /** Writes every byte; false when the peer is gone or did not read for the idle timeout. */
  async #writeAll(connection: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
    for (let offset = 0; offset < bytes.length;) {
      const written = await withTimeout(
        connection.write(bytes.subarray(offset)).catch(() => -1),
        this.#limits.idleTimeoutMs,
      )
      if (written === undefined) {
        this.#refuse('http-idle-timeout', `a peer read nothing in ${this.#limits.idleTimeoutMs} ms`)
        return false
      }
      if (written < 0) return false
      offset += written
    }
    return true
  }
}

/** The request line and headers, up to the empty line; undefined when too long or cut. */
async function readHead(connection: Deno.Conn): Promise<string | undefined> {
  const buffer = new Uint8Array(MAX_HEADER_BYTES)
  let length = 0
  while (length < buffer.length) {
    const read = await connection.read(buffer.subarray(length)).catch(() => null)
    if (read === null) return undefined
    length += read
    const text = decoder.decode(buffer.subarray(0, length))
    const end = text.indexOf('\r\n\r\n')
    if (end >= 0) return text.slice(0, end)
  }
  return undefined
}

function parseHead(head: string): Request | undefined {
  const [line, ...fields] = head.split('\r\n')
  const match = line.match(/^([A-Z]+) (\/\S*) HTTP\/1\.[01]$/)
  if (match === null) return undefined
  const headers = new Headers()
  for (const field of fields) {
    const colon = field.indexOf(':')
    if (colon <= 0) return undefined
    try {
      headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim())
    } catch {
      return undefined
    }
  }
  const method = match[1]
  // A body is never read: every route is a GET or a HEAD. The host is not trusted.
  try {
    return new Request(`http://localhost${match[2]}`, {
      method: method === 'CONNECT' || method === 'TRACE' || method === 'TRACK' ? 'OPTIONS' : method,
      headers,
    })
  } catch {
    return undefined
  }
}

/** The value of `promise`, or undefined when it takes longer than `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms)),
    ])
  } finally {
    clearTimeout(timer)
  }
}

function closeQuietly(closable: { close(): void }): void {
  try {
    closable.close()
  } catch {
    // already closed
  }
}
