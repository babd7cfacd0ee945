// Argument checks shared by every public entry point of core/, client/ and server/
// (not exported from any mod.ts: a module of the package, not of its API).
import { InvalidArgumentError } from './errors.ts'

const maxIdLength = 256
/** Labels of one container at most: its record goes to every client and live stream. */
const maxLabels = 256

/** A non-empty string of at most 256 characters. */
export function requireId<T extends string>(value: unknown, what: string): T {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxIdLength) {
    throw new InvalidArgumentError(
      `${what} must be a non-empty string of at most ${maxIdLength} characters, got ${
        describe(value)
      }`,
    )
  }
  return value as T
}

/** A TCP port number, 0 (any free port) to 65535. */
export function requirePort(value: unknown, what = 'port'): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 65535) {
    throw new InvalidArgumentError(`${what} must be an integer from 0 to 65535, got ${value}`)
  }
  return value as number
}

/** An array of non-empty strings, returned without duplicates. */
export function requireLabels(value: unknown, what = 'labels'): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an array of strings, got ${describe(value)}`)
  }
  if (value.length > maxLabels) {
    throw new InvalidArgumentError(`${what} may hold ${maxLabels} labels, got ${value.length}`)
  }
  for (const label of value) requireId(label, `each of ${what}`)
  return [...new Set(value as string[])]
}

/** A plain object (or undefined). */
export function requireRecord(
  value: unknown,
  what: string,
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object, got ${describe(value)}`)
  }
  return value as Record<string, unknown>
}

/**
 * The options object of a constructor that listens, such as `{ host, port }`: a host
 * and port passed positionally (`new NetworkServer(network, clock, '0.0.0.0', 3737)`)
 * are refused with the form to use, never ignored.
 */
export function requireListenOptions<T extends { host?: unknown }>(
  options: T,
  call: string,
  compatHint = '',
): T {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InvalidArgumentError(
      `the options of ${call} must be an object, got ${describe(options)}${compatHint}`,
    )
  }
  requireRecord(options, `the options of ${call}`)
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host === '')) {
    throw new InvalidArgumentError(`host must be a non-empty string, got ${describe(options.host)}`)
  }
  return options
}

/** A plain object that must be there. */
export function requireObject<T = Record<string, unknown>>(value: unknown, what: string): T {
  if (value === undefined) throw new InvalidArgumentError(`${what} is required`)
  return requireRecord(value, what) as T
}

/** A finite number greater than zero. */
export function requirePositive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`${what} must be a finite number > 0, got ${describe(value)}`)
  }
  return value
}

/** A function. */
export function requireFunction<T>(value: unknown, what: string): T {
  if (typeof value !== 'function') {
    throw new InvalidArgumentError(`${what} must be a function, got ${describe(value)}`)
  }
  return value as T
}

/** A short description of a bad value for error messages (never its whole content). */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string'
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value)
  return typeof value
}
