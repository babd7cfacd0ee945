/**
 * The transport of Huly Network. For now: the ZeroMQ socket layer (ROUTER and
 * DEALER sockets over the libzmq C API through Deno FFI).
 *
 * Needs `--allow-ffi` and `--allow-read` (see {@link RouterSocket}); optionally
 * `--allow-env=HULY_LIBZMQ_PATH` to load libzmq from that path.
 *
 * @module
 */

export * from './zmq/mod.ts'
