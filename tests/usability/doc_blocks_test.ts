// Issue 16, item 9: every `ts` block of the README and of docs/ type-checks against the
// checkout, so the documentation cannot drift from the API. Each block is a module of its
// own in a fresh folder whose import map points `@huly/network/*` at this checkout.
// A block that cannot stand alone says so with `ts ignore` (and a reason beside it).
import assert from 'node:assert/strict'
import { root } from '../cli/_cli.ts'

interface Block {
  /** Where it is, such as `docs/usage.md:12`. */
  place: string
  code: string
}

/** The `ts` blocks of `file` (relative to the checkout), `ts ignore` ones left out. */
async function tsBlocks(file: string): Promise<Block[]> {
  const text = await Deno.readTextFile(`${root}${file}`)
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => ({
    place: `${file}:${text.slice(0, match.index).split('\n').length}`,
    code: match[1],
  }))
}

/** The markdown files of the documentation. */
async function documents(): Promise<string[]> {
  const files = ['README.md']
  for await (const entry of Deno.readDir(`${root}docs`)) {
    if (entry.name.endsWith('.md')) files.push(`docs/${entry.name}`)
  }
  return files.toSorted()
}

/** An import map of the library's own name and dependencies, resolved to this checkout. */
async function importMap(): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`))
  const imports: Record<string, string> = { ...config.imports }
  for (const [path, target] of Object.entries<string>(config.exports)) {
    imports[`${config.name}${path.slice(1)}`] = new URL(target, `file://${root}`).href
  }
  return imports
}

Deno.test('every ts block of the README and docs/ type-checks against the checkout', async () => {
  const blocks = (await Promise.all((await documents()).map(tsBlocks))).flat()
  assert.ok(blocks.length >= 4, `only ${blocks.length} blocks found`)
  const dir = await Deno.makeTempDir({ prefix: 'huly-network-doc-blocks-' })
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ imports: await importMap() }))
    const files = await Promise.all(blocks.map(async (block, index) => {
      const file = `block_${index}.ts`
      await Deno.writeTextFile(`${dir}/${file}`, `// ${block.place}\n${block.code}`)
      return file
    }))
    const check = await new Deno.Command(Deno.execPath(), {
      args: ['check', '--quiet', ...files],
      cwd: dir,
      stdout: 'piped',
      stderr: 'piped',
    }).output()
    const output = new TextDecoder().decode(check.stderr)
    const places = blocks.map((block, index) => `block_${index}.ts = ${block.place}`).join('\n')
    assert.equal(check.code, 0, `${output}\n${places}`)
  } finally {
    await Deno.remove(dir, { recursive: true })
  }
})

/** The anchors of a markdown text's headings, as GitHub makes them. */
function anchors(text: string): Set<string> {
  const outside = text.replaceAll(/^```[\s\S]*?^```$/gm, '')
  return new Set(
    [...outside.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) =>
      heading.trim().toLowerCase().replaceAll(/[^a-z0-9 _-]/g, '').replaceAll(' ', '-')
    ),
  )
}

Deno.test('every relative link of the README, the changelog and docs/ reaches a file and heading', async () => {
  const files = [...await documents(), 'CHANGELOG.md']
  const broken: string[] = []
  for (const file of files) {
    const text = await Deno.readTextFile(`${root}${file}`)
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue
      const [path, anchor] = target.split('#')
      const url = new URL(path || file.split('/').at(-1)!, new URL(file, `file://${root}`))
      const linked = await Deno.readTextFile(url).catch(() => undefined)
      if (linked === undefined && !(await Deno.stat(url).catch(() => undefined))) {
        broken.push(`${file}: ${target} (no such file)`)
      } else if (anchor && !anchors(linked ?? '').has(anchor)) {
        broken.push(`${file}: ${target} (no such heading)`)
      }
    }
  }
  assert.deepEqual(broken, [])
})
