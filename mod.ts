/**
 * Huly Network for Deno: a distributed virtual network of agents, containers and
 * clients over ZeroMQ.
 *
 * @module
 */

export * from './core/mod.ts'
export * from './rpc/mod.ts'
export * from './client/mod.ts'
export * from './server/mod.ts'
