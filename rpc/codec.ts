/**
 * The value codec of the wire: MessagePack through `msgpackr`, with records off so
 * any MessagePack peer can read it. `undefined`, `null`, numbers, bigint (any
 * size), strings, `Uint8Array`, `Date` and nested arrays/objects round-trip
 * exactly.
 *
 * @module
 */
import { Packr } from 'msgpackr/pack'
import { ProtocolError } from '../common/errors.ts'

const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  int64AsType: 'bigint',
  useBigIntExtension: true,
})

/**
 * Encodes a value to MessagePack bytes.
 *
 * @example
 * ```ts
 * import { decode, encode } from '@huly/network/rpc'
 * const bytes = encode({ hello: 'world', at: new Date(0), big: 2n ** 70n })
 * console.log(decode(bytes))
 * ```
 */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value)
}

/**
 * Decodes MessagePack bytes; malformed input throws a `ProtocolError`.
 *
 * @example
 * ```ts
 * import { decode, encode } from '@huly/network/rpc'
 * console.assert(decode(encode(undefined)) === undefined)
 * ```
 */
export function decode(bytes: Uint8Array): unknown {
  // A plain Uint8Array source makes msgpackr return binary values as Uint8Array
  // views, not Node Buffers, so bytes round-trip with their own type.
  const source = Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  try {
    return packr.unpack(source)
  } catch (error) {
    throw new ProtocolError(`undecodable MessagePack (${source.byteLength} bytes)`, {
      cause: error,
    })
  }
}
