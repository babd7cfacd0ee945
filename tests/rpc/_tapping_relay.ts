// A TCP relay that records what passes, to look for plaintext on the wire.

/** A TCP relay on loopback that records every byte it forwards, both ways. */
export class TappingRelay {
  readonly port: number
  #listener: Deno.Listener
  #conns: Deno.Conn[] = []
  #pumps: Promise<void>[] = []
  #captured: Uint8Array[] = []

  constructor(targetPort: number) {
    this.#listener = Deno.listen({ hostname: '127.0.0.1', port: 0 })
    this.port = (this.#listener.addr as Deno.NetAddr).port
    this.#pumps.push(this.#accept(targetPort))
  }

  async #accept(targetPort: number): Promise<void> {
    try {
      for await (const inbound of this.#listener) {
        const outbound = await Deno.connect({ hostname: '127.0.0.1', port: targetPort })
        this.#conns.push(inbound, outbound)
        this.#pumps.push(this.#copy(inbound, outbound), this.#copy(outbound, inbound))
      }
    } catch {
      // The listener was closed.
    }
  }

  async #copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(65536)
    try {
      for (;;) {
        const n = await from.read(buffer)
        if (n === null) break
        this.#captured.push(buffer.slice(0, n))
        await to.write(buffer.subarray(0, n))
      }
    } catch {
      // A side closed.
    }
  }

  /** Whether the captured bytes contain `marker`. */
  saw(marker: string): boolean {
    const total = this.#captured.reduce((sum, chunk) => sum + chunk.length, 0)
    const all = new Uint8Array(total)
    let offset = 0
    for (const chunk of this.#captured) {
      all.set(chunk, offset)
      offset += chunk.length
    }
    return new TextDecoder('latin1').decode(all).includes(marker)
  }

  /** How many bytes went through. */
  get bytes(): number {
    return this.#captured.reduce((sum, chunk) => sum + chunk.length, 0)
  }

  async close(): Promise<void> {
    this.#listener.close()
    for (const conn of this.#conns) {
      try {
        conn.close()
      } catch {
        // Already closed.
      }
    }
    await Promise.all(this.#pumps)
  }
}
