// A strict parser of the Prometheus text format (version 0.0.4), for the tests: it
// throws on anything a Prometheus server would reject, and checks what a histogram
// promises (cumulative buckets ending in +Inf, which equals _count).

/** One sample: metric name, labels, value. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** A metric family: its type, help and samples. */
export interface Family {
  name: string
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
  help: string
  samples: Sample[]
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (text === 'NaN') return NaN
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new Error(`line ${line}: bad value "${text}"`)
  }
  return Number(text)
}

function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {}
  let i = 1 // after '{'
  for (;;) {
    while (text[i] === ' ') i++
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) }
    const nameEnd = text.indexOf('=', i)
    if (nameEnd < 0) throw new Error(`line ${line}: label without =`)
    const name = text.slice(i, nameEnd).trim()
    if (!labelName.test(name)) throw new Error(`line ${line}: bad label name "${name}"`)
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`)
    i = nameEnd + 1
    if (text[i] !== '"') throw new Error(`line ${line}: label value not quoted`)
    i++
    let value = ''
    for (;;) {
      const char = text[i++]
      if (char === undefined) throw new Error(`line ${line}: unterminated label value`)
      if (char === '"') break
      if (char === '\\') {
        const escaped = text[i++]
        if (escaped === 'n') value += '\n'
        else if (escaped === '\\' || escaped === '"') value += escaped
        else throw new Error(`line ${line}: bad escape \\${escaped}`)
      } else value += char
    }
    labels[name] = value
    while (text[i] === ' ') i++
    if (text[i] === ',') i++
    else if (text[i] !== '}') throw new Error(`line ${line}: expected , or } in labels`)
  }
}

/** The family a sample name belongs to (histogram samples end in _bucket, _sum, _count). */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  if (families.has(name)) return families.get(name)
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue
    const family = families.get(name.slice(0, -suffix.length))
    if (family?.type === 'histogram' || family?.type === 'summary') return family
  }
  return undefined
}

/** Parses the text; throws with the line number on the first violation. */
export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the text must end with a newline')
  const families = new Map<string, Family>()
  const seen = new Set<string>()
  const typed = new Set<string>()
  const helped = new Set<string>()
  text.slice(0, -1).split('\n').forEach((raw, index) => {
    const line = index + 1
    if (raw.trim() === '') return
    if (raw.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw)
      if (match === null) return // a plain comment
      const [, keyword, name, rest] = match
      if (!metricName.test(name)) throw new Error(`line ${line}: bad metric name ${name}`)
      let family = families.get(name)
      if (family === undefined) {
        families.set(name, family = { name, type: 'untyped', help: '', samples: [] })
      } else if (family.samples.length > 0) {
        throw new Error(`line ${line}: ${keyword} of ${name} after its samples`)
      }
      if (keyword === 'TYPE') {
        if (typed.has(name)) throw new Error(`line ${line}: second TYPE of ${name}`)
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) {
          throw new Error(`line ${line}: bad type ${rest}`)
        }
        typed.add(name)
        family.type = rest as Family['type']
      } else {
        if (helped.has(name)) throw new Error(`line ${line}: second HELP of ${name}`)
        helped.add(name)
        family.help = rest.replaceAll('\\n', '\n').replaceAll('\\\\', '\\')
      }
      return
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw)
    if (nameMatch === null) throw new Error(`line ${line}: no metric name in "${raw}"`)
    const name = nameMatch[0]
    let rest = raw.slice(name.length)
    let labels: Record<string, string> = {}
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line))
    const parts = rest.trim().split(/ +/)
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) {
      throw new Error(`line ${line}: expected " value [timestamp]" in "${raw}"`)
    }
    const value = parseValue(parts[0], line)
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1])) {
      throw new Error(`line ${line}: bad timestamp`)
    }
    const family = familyOf(name, families)
    if (family === undefined) throw new Error(`line ${line}: ${name} has no TYPE before it`)
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`
    if (seen.has(key)) throw new Error(`line ${line}: series ${key} twice`)
    seen.add(key)
    if (family.type === 'counter' && !(value >= 0)) throw new Error(`line ${line}: counter < 0`)
    family.samples.push({ name, labels, value })
  })
  for (const family of families.values()) {
    if (family.type === 'histogram') checkHistogram(family)
  }
  return families
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, Sample[]>()
  for (const sample of family.samples) {
    const { le: _le, ...rest } = sample.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    groups.set(key, [...(groups.get(key) ?? []), sample])
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`)
    const count = samples.find((s) => s.name === `${family.name}_count`)
    if (!samples.some((s) => s.name === `${family.name}_sum`) || count === undefined) {
      throw new Error(`${family.name}${key}: no _sum or _count`)
    }
    let previous = -Infinity
    let last = 0
    for (const bucket of buckets) {
      const le = parseValue(bucket.labels.le ?? '', 0)
      if (!(le > previous)) throw new Error(`${family.name}${key}: buckets not increasing`)
      if (bucket.value < last) throw new Error(`${family.name}${key}: buckets not cumulative`)
      previous = le
      last = bucket.value
    }
    if (previous !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`)
    if (last !== count.value) throw new Error(`${family.name}${key}: +Inf bucket != _count`)
  }
}

/** The value of the sample with exactly these labels (0 when absent). */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue
      const keys = Object.keys(sample.labels)
      if (
        keys.length === Object.keys(labels).length &&
        keys.every((key) => sample.labels[key] === labels[key])
      ) return sample.value
    }
  }
  return 0
}
