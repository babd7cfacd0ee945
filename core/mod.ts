/**
 * The model of Huly Network, with no I/O.
 *
 * @module
 */

export * from './errors.ts'
