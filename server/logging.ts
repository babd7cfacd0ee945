// Shared by server/ and cli/; not exported from any mod.ts (a module of the
// package, not of its API).
// Log sinks of the programs (the coordinator and the CLI): the library only calls
// getLogger; these configure LogTape once per process. Human-readable lines by
// default, JSON Lines with the `json` format.
import { configure, getConsoleSink, jsonLinesFormatter, type LogLevel } from '@logtape/logtape'

/** The levels a flag or variable may name, lowest first. */
export const logLevels: readonly LogLevel[] = [
  'trace',
  'debug',
  'info',
  'warning',
  'error',
  'fatal',
]

/** Whether `text` names a log level. */
export function isLogLevel(text: string): text is LogLevel {
  return (logLevels as readonly string[]).includes(text)
}

/**
 * Sends every `huly-network` log record at `level` or above to the console, as
 * text or JSON Lines; with `stderrOnly` every record goes to stderr (the CLI keeps
 * stdout for its output).
 */
export async function configureLogging(
  level: LogLevel,
  format: 'text' | 'json',
  stderrOnly = false,
): Promise<void> {
  const formatter = format === 'json' ? jsonLinesFormatter : undefined
  const levelMap = stderrOnly
    ? {
      trace: 'error',
      debug: 'error',
      info: 'error',
      warning: 'error',
      error: 'error',
      fatal: 'error',
    } as const
    : undefined
  await configure({
    reset: true,
    sinks: { console: getConsoleSink({ formatter, levelMap }) },
    loggers: [
      { category: ['huly-network'], lowestLevel: level, sinks: ['console'] },
      { category: ['logtape', 'meta'], lowestLevel: 'warning', sinks: ['console'] },
    ],
  })
}
