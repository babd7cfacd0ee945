/**
 * The libzmq and libc bindings through Deno FFI, and how libzmq is located.
 *
 * libzmq is taken, in this order, from the file named by the environment variable
 * `HULY_LIBZMQ_PATH` (read only when `--allow-env` grants it), from the prebuilt
 * native addon of the `npm:zeromq` package for this platform (it exports the
 * whole `zmq_*` C API), and from the system (`libzmq.so.5`, `libzmq.5.dylib`).
 *
 * @module
 */

import { LibzmqLoadError } from './errors.ts'

const ZMQ_SYMBOLS = {
  zmq_version: { parameters: ['buffer', 'buffer', 'buffer'], result: 'void' },
  zmq_errno: { parameters: [], result: 'i32' },
  zmq_strerror: { parameters: ['i32'], result: 'pointer' },
  zmq_ctx_new: { parameters: [], result: 'pointer' },
  // Blocks until every socket of the context is closed and its linger expired.
  zmq_ctx_term: { parameters: ['pointer'], result: 'i32', nonblocking: true },
  zmq_socket: { parameters: ['pointer', 'i32'], result: 'pointer' },
  zmq_close: { parameters: ['pointer'], result: 'i32' },
  zmq_setsockopt: { parameters: ['pointer', 'i32', 'buffer', 'usize'], result: 'i32' },
  zmq_getsockopt: { parameters: ['pointer', 'i32', 'buffer', 'buffer'], result: 'i32' },
  zmq_bind: { parameters: ['pointer', 'buffer'], result: 'i32' },
  zmq_connect: { parameters: ['pointer', 'buffer'], result: 'i32' },
  zmq_disconnect: { parameters: ['pointer', 'buffer'], result: 'i32' },
  zmq_send: { parameters: ['pointer', 'buffer', 'usize', 'i32'], result: 'i32' },
  zmq_msg_init: { parameters: ['buffer'], result: 'i32' },
  zmq_msg_recv: { parameters: ['buffer', 'pointer', 'i32'], result: 'i32' },
  zmq_msg_data: { parameters: ['buffer'], result: 'pointer' },
  zmq_msg_size: { parameters: ['buffer'], result: 'usize' },
  zmq_msg_more: { parameters: ['buffer'], result: 'i32' },
  zmq_msg_close: { parameters: ['buffer'], result: 'i32' },
  zmq_socket_monitor: { parameters: ['pointer', 'buffer', 'i32'], result: 'i32' },
  zmq_curve_keypair: { parameters: ['buffer', 'buffer'], result: 'i32' },
  zmq_curve_public: { parameters: ['buffer', 'buffer'], result: 'i32' },
  zmq_z85_encode: { parameters: ['buffer', 'buffer', 'usize'], result: 'pointer' },
  zmq_has: { parameters: ['buffer'], result: 'i32' },
} as const satisfies Deno.ForeignLibraryInterface

const LIBC_SYMBOLS = {
  // Waits for readiness on a worker thread; the JS thread stays free.
  poll: { parameters: ['buffer', 'usize', 'i32'], result: 'i32', nonblocking: true },
  // The same call on the JS thread, only ever with a zero timeout: it never waits.
  pollNow: { name: 'poll', parameters: ['buffer', 'usize', 'i32'], result: 'i32' },
} as const satisfies Deno.ForeignLibraryInterface

/** The loaded libzmq symbols. */
export type Libzmq = Deno.DynamicLibrary<typeof ZMQ_SYMBOLS>['symbols']
/** The loaded libc symbols. */
export type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>['symbols']

let zmq: Libzmq | undefined
let libc: Libc | undefined
let loadedFrom = ''

/** Returns the libzmq binding, loading the library on first use. */
export function libzmq(): Libzmq {
  if (zmq === undefined) loadLibzmq()
  return zmq as Libzmq
}

/** Returns the libc binding (only `poll`), loading it on first use. */
export function libcPoll(): Libc {
  if (libc === undefined) libc = openFirst(libcCandidates(), LIBC_SYMBOLS, 'libc').symbols
  return libc
}

/** The path of the libzmq that was loaded, or `''` before the first use. */
export function libzmqPath(): string {
  return loadedFrom
}

function loadLibzmq(): void {
  const candidates = [...envCandidate(), ...npmZeromqCandidates(), ...systemCandidates()]
  const opened = openFirst(candidates, ZMQ_SYMBOLS, 'libzmq')
  zmq = opened.symbols
  loadedFrom = opened.path
}

function openFirst<S extends Deno.ForeignLibraryInterface>(
  candidates: string[],
  symbols: S,
  what: string,
): { symbols: Deno.DynamicLibrary<S>['symbols']; path: string } {
  const tried: string[] = []
  for (const path of candidates) {
    try {
      return { symbols: Deno.dlopen(path, symbols).symbols, path }
    } catch (error) {
      tried.push(`${path}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  throw new LibzmqLoadError(
    `cannot load ${what}; tried:\n  ${tried.join('\n  ') || '(no candidate found)'}`,
    tried,
  )
}

function envCandidate(): string[] {
  const status = Deno.permissions.querySync({ name: 'env', variable: 'HULY_LIBZMQ_PATH' })
  if (status.state !== 'granted') return []
  const path = Deno.env.get('HULY_LIBZMQ_PATH')
  return path ? [path] : []
}

const ARCH: Record<string, string> = { x86_64: 'x64', aarch64: 'arm64' }

/** The prebuilt addons of `npm:zeromq` for this os/arch, best match first. */
function npmZeromqCandidates(): string[] {
  let packageJson: URL
  try {
    packageJson = new URL(import.meta.resolve('zeromq/package.json'))
  } catch {
    return []
  }
  if (packageJson.protocol !== 'file:') return []
  const buildDir = new URL('build/', packageJson)
  const os = Deno.build.os === 'windows' ? 'win32' : Deno.build.os
  const arch = ARCH[Deno.build.arch] ?? Deno.build.arch
  const preferredLibc = Deno.build.env === 'musl' ? 'musl' : 'glibc'
  const found: { path: string; rank: number }[] = []
  try {
    const manifest = JSON.parse(Deno.readTextFileSync(new URL('manifest.json', buildDir)))
    for (const [config, relative] of Object.entries(manifest as Record<string, string>)) {
      const spec = JSON.parse(config) as { os: string; arch: string; abi: number; libc: string }
      if (spec.os !== os || spec.arch !== arch) continue
      const rank = (spec.libc === preferredLibc || os !== 'linux' ? 1000 : 0) + spec.abi
      const path = new URL(relative.replaceAll('\\', '/'), buildDir)
      found.push({ path: decodeURIComponent(path.pathname), rank })
    }
  } catch {
    // No manifest (or no read permission): fall through to the directory listing.
  }
  if (found.length === 0) {
    try {
      const dir = new URL(`${os}/${arch}/node/`, buildDir)
      for (const entry of Deno.readDirSync(dir)) {
        if (!entry.isDirectory) continue
        const path = decodeURIComponent(new URL(`${entry.name}/addon.node`, dir).pathname)
        found.push({ path, rank: entry.name.startsWith(preferredLibc) ? 1 : 0 })
      }
    } catch {
      // Nothing to list: the system candidates remain.
    }
  }
  return found.sort((a, b) => b.rank - a.rank).map((candidate) => candidate.path)
}

function systemCandidates(): string[] {
  switch (Deno.build.os) {
    case 'darwin':
      return ['libzmq.5.dylib', '/opt/homebrew/lib/libzmq.5.dylib', '/usr/local/lib/libzmq.5.dylib']
    case 'windows':
      return ['libzmq.dll']
    default:
      return ['libzmq.so.5', 'libzmq.so']
  }
}

function libcCandidates(): string[] {
  switch (Deno.build.os) {
    case 'darwin':
      return ['libSystem.B.dylib', '/usr/lib/libSystem.B.dylib']
    default:
      return ['libc.so.6', 'libc.so', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1']
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Encodes a string as a NUL-terminated C string. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(text)
  const result = new Uint8Array(bytes.length + 1)
  result.set(bytes)
  return result
}

/** Decodes a NUL-terminated C string from a buffer. */
export function fromCString(buffer: Uint8Array): string {
  const end = buffer.indexOf(0)
  return decoder.decode(end < 0 ? buffer : buffer.subarray(0, end))
}

/** The text of a libzmq error number. */
export function errorText(errno: number): string {
  const pointer = libzmq().zmq_strerror(errno)
  return pointer === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(pointer)
}
