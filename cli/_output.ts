// What the CLI prints: lines on stdout or stderr, aligned tables, and JSON that
// survives the values msgpack carries (bigint, bytes, undefined).
import type { AgentRecord, ContainerRecord, EndpointRef } from '../core/mod.ts'

const encoder = new TextEncoder()

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text)
  for (let offset = 0; offset < bytes.length;) offset += stream.writeSync(bytes.subarray(offset))
}

/** Writes one line to stdout. */
export function out(line: string): void {
  writeAll(Deno.stdout, `${line}\n`)
}

/** Writes one line to stderr. */
export function err(line: string): void {
  writeAll(Deno.stderr, `${line}\n`)
}

/** JSON for any value the network carries: bigint as a decimal string, bytes as base64. */
export function toJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, (_key, item) => {
    if (typeof item === 'bigint') return item.toString()
    if (item instanceof Uint8Array) {
      return btoa(Array.from(item, (byte) => String.fromCharCode(byte)).join(''))
    }
    return item
  }, indent)
  return text ?? 'null'
}

/** Rows aligned under their headers, columns two spaces apart. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => row[column].length))
  )
  const line = (cells: string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

/** `routed tcp://…`, `direct tcp://…` or `network`. */
export function describeEndpoint(endpoint: EndpointRef): string {
  return endpoint.kind === 'network' ? 'network' : `${endpoint.kind} ${endpoint.address}`
}

/** The table of containers. */
export function containerTable(records: ContainerRecord[]): string {
  return table(
    ['UUID', 'KIND', 'AGENT', 'LABELS', 'ENDPOINT'],
    records.map((record) => [
      record.uuid,
      record.kind,
      record.agentId,
      record.labels.join(',') || '-',
      describeEndpoint(record.endpoint) + (record.stateless ? ' (stateless)' : ''),
    ]),
  )
}

/** The table of agents. */
export function agentTable(records: AgentRecord[]): string {
  return table(
    ['AGENT', 'KINDS', 'CONTAINERS', 'ENDPOINT'],
    records.map((record) => [
      record.agentId + (record.draining ? ' (draining)' : ''),
      record.kinds.join(',') || '-',
      String(record.containers),
      record.endpoint ?? '-',
    ]),
  )
}
