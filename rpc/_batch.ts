/**
 * Batches: several queued messages to one peer carried as one ZeroMQ message.
 *
 * Every ZeroMQ message costs a few FFI calls per frame on each side, a trip
 * through libzmq's pipes and a wake-up of the reader; when a send queue holds
 * several small messages for one peer, they go as one. A batch is a message of
 * one payload frame that starts with the byte 0xc1, which MessagePack never uses
 * (so no rpc header starts with it):
 *
 *     batch   = [routing id (ROUTER only)] [blob]
 *     blob    = 0xc1 message*
 *     message = u8 frame count (1..255), then per frame: u32 length (LE), bytes
 *
 * A message that would itself look like a batch (one payload frame starting with
 * 0xc1) is always sent inside one, so the format is unambiguous. A blob that does
 * not parse, or that passes the limits a sender keeps (256 messages; 64 KiB unless
 * it holds one message), is delivered whole as it came, for the layer above to
 * refuse: it is checked before anything is split, so a batch bomb costs one scan.
 *
 * @module
 */

import type { Fifo } from './_fifo.ts'

/** Messages per batch at most. */
export const MAX_BATCH_MESSAGES = 256
/** Bytes per batch blob at most (a single larger message may still be wrapped alone). */
export const MAX_BATCH_BYTES = 64 * 1024
const MAX_MESSAGES = MAX_BATCH_MESSAGES
const MAX_BYTES = MAX_BATCH_BYTES
/** Frames larger than this are sent on their own: copying them would cost more than it saves. */
const MAX_FRAME = 16 * 1024

/** The first byte of a batch. */
const MARK = 0xc1

/** A batch ready to send, and how many queued messages it carries. */
export interface Batch {
  readonly frames: Uint8Array[]
  readonly count: number
}

/** Whether a message must be wrapped: it has the shape of a batch. */
function looksLikeBatch(frames: Uint8Array[], prefix: number): boolean {
  return frames.length === prefix + 1 && frames[prefix][0] === MARK
}

/** The blob bytes of one message, or -1 when it cannot join a batch. */
function messageSize(frames: Uint8Array[], prefix: number, wrapAnyway: boolean): number {
  const count = frames.length - prefix
  if (count < 1 || count > 255) return -1
  let size = 1
  for (let i = prefix; i < frames.length; i++) {
    if (frames[i].length > MAX_FRAME && !wrapAnyway) return -1
    size += 4 + frames[i].length
  }
  return size
}

/**
 * Packs the oldest queued messages (at most `limit`) into one batch; `null` when
 * the oldest message should go as it is. `prefix` is 1 when every message starts
 * with a routing id (a ROUTER's per-peer queue: all to the same peer), else 0.
 * With `packSingle`, one message of several frames alone is packed too (one frame
 * is cheaper than several where each frame costs, as with encryption).
 */
export function takeBatch(
  messages: Fifo<Uint8Array[]>,
  prefix: number,
  limit: number,
  packSingle = false,
): Batch | null {
  const first = messages.peek()
  if (first === undefined) return null
  // Wrapped even alone: it looks like a batch, or packing it saves frames.
  const wrap = looksLikeBatch(first, prefix) ||
    (packSingle && first.length - prefix > 1 && messageSize(first, prefix, false) >= 0)
  const available = Math.min(messages.length, limit, MAX_MESSAGES)
  if (available < 2 && !wrap) return null
  let count = 0
  let bytes = 0
  for (; count < available; count++) {
    const size = messageSize(messages.at(count) as Uint8Array[], prefix, count === 0 && wrap)
    if (size < 0 || (count > 0 && bytes + size > MAX_BYTES)) break
    bytes += size
  }
  if (count < 2 && !wrap) return null
  const blob = new Uint8Array(1 + bytes)
  const view = new DataView(blob.buffer)
  blob[0] = MARK
  let offset = 1
  for (let m = 0; m < count; m++) {
    const frames = messages.at(m) as Uint8Array[]
    blob[offset++] = frames.length - prefix
    for (let i = prefix; i < frames.length; i++) {
      const frame = frames[i]
      view.setUint32(offset, frame.length, true)
      blob.set(frame, offset + 4)
      offset += 4 + frame.length
    }
  }
  return { frames: prefix === 1 ? [first[0], blob] : [blob], count }
}

/**
 * The messages of a received batch, each with the routing id in front when
 * `prefix` is 1; `null` when `frames` is not a batch, its blob does not parse, or it
 * passes the limits of a batch. Frames are views into the blob: nothing is copied.
 */
export function splitBatch(frames: Uint8Array[], prefix: number): Uint8Array[][] | null {
  if (!looksLikeBatch(frames, prefix)) return null
  const blob = frames[prefix]
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
  const count = countMessages(blob, view)
  if (count === 0 || (count > 1 && blob.length > 1 + MAX_BYTES)) return null
  const messages: Uint8Array[][] = []
  let offset = 1
  while (offset < blob.length) {
    const count = blob[offset++]
    const message: Uint8Array[] = prefix === 1 ? [frames[0]] : []
    for (let i = 0; i < count; i++) {
      const length = view.getUint32(offset, true)
      message.push(blob.subarray(offset + 4, offset + 4 + length))
      offset += 4 + length
    }
    messages.push(message)
  }
  return messages
}

/** Messages in a blob, without splitting it; 0 when it does not parse or holds too many. */
function countMessages(blob: Uint8Array, view: DataView): number {
  let messages = 0
  let offset = 1
  while (offset < blob.length) {
    if (++messages > MAX_MESSAGES) return 0
    const count = blob[offset++]
    if (count === 0) return 0
    for (let i = 0; i < count; i++) {
      if (offset + 4 > blob.length) return 0
      const length = view.getUint32(offset, true)
      offset += 4
      if (length > blob.length - offset) return 0
      offset += length
    }
  }
  return messages
}
