// Captures the library's log records for a test.
import { configure, type LogRecord, reset } from '@logtape/logtape'

/** Runs `fn` with the records of `category` at `level` and above captured. */
export async function withLogs(
  fn: (records: LogRecord[]) => Promise<void>,
  level: 'debug' | 'info' | 'warning' = 'warning',
  category: string[] = ['huly-network'],
): Promise<void> {
  const records: LogRecord[] = []
  await configure({
    sinks: { capture: (record) => records.push(record) },
    loggers: [
      { category, lowestLevel: level, sinks: ['capture'] },
      { category: ['logtape', 'meta'], lowestLevel: 'error', sinks: [] },
    ],
    reset: true,
  })
  try {
    await fn(records)
  } finally {
    await reset()
  }
}

/** The text of a record with its properties filled in. */
export function textOf(record: LogRecord): string {
  return record.message.map((part) => typeof part === 'string' ? part : String(part)).join('')
}
