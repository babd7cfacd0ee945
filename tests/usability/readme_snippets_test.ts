// Issue 15, defect 10: the snippets of the README and of docs/usage.md run as written from
// a fresh folder outside the checkout, importing the library the way the README's "Use it in
// your project" says.
import assert from 'node:assert/strict'
import { freePort, root, Running } from '../cli/_cli.ts'

const texts = {
  readme: await Deno.readTextFile(`${root}README.md`),
  usage: await Deno.readTextFile(`${root}docs/usage.md`),
}

/** The fenced blocks of `language` in the section of `text` that starts with `heading`. */
function blocks(text: keyof typeof texts, heading: string, language: string): string[] {
  const readme = `\n${texts[text]}`
  const start = readme.indexOf(`\n${heading}\n`)
  assert.ok(start >= 0, `no section ${heading}`)
  const end = readme.indexOf('\n## ', start + heading.length + 2)
  const section = readme.slice(start, end < 0 ? undefined : end)
  return [...section.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))]
    .map((match) => match[1])
}

/** The `deno run …` line a snippet states in its first line, as arguments. */
function runLine(snippet: string): string[] {
  const line = snippet.split('\n')[0].match(/deno run (.*)$/)
  assert.ok(line, `no deno run line in:\n${snippet}`)
  return ['run', ...line[1].split(/\s+/)]
}

/** A fresh project folder outside the checkout, set up as the README says. */
async function project(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: 'huly-network-user-' })
  assert.ok(!dir.startsWith(root))
  const [config] = blocks('readme', '## Use it in your project', 'json')
  await Deno.writeTextFile(`${dir}/deno.json`, config.replaceAll('../huly-network/', root))
  const install = await new Deno.Command(Deno.execPath(), {
    args: ['install'],
    cwd: dir,
    stdout: 'null',
    stderr: 'piped',
  }).output()
  assert.equal(install.code, 0, new TextDecoder().decode(install.stderr))
  return dir
}

function deno(dir: string, file: string, snippet: string): Running {
  return new Running(file, Deno.execPath(), runLine(snippet), { cwd: dir })
}

Deno.test('10. the "Use it in your project" snippet runs as written from a fresh folder', async () => {
  const dir = await project()
  try {
    const [main] = blocks('readme', '## Use it in your project', 'ts')
    assert.match(main, /^\/\/ deno run /)
    await Deno.writeTextFile(`${dir}/main.ts`, main)
    const running = new Running('main.ts', Deno.execPath(), [
      'run',
      ...blocks('readme', '## Use it in your project', 'sh')[0].trim().split(/\s+/).slice(2),
    ], { cwd: dir })
    const timer = setTimeout(() => running.kill('SIGKILL'), 60_000)
    const { code } = await running.exited()
    clearTimeout(timer)
    assert.equal(code, 0, running.stderr.join('\n'))
    assert.deepEqual(running.stdout, [
      '{ operation: "find", data: { query: "x" } }',
      '{ hello: "alice" }',
    ])
  } finally {
    await Deno.remove(dir, { recursive: true })
  }
})

Deno.test('10. the coordinator, agent and client snippets of "Using it" run together from a fresh folder', async () => {
  const dir = await project()
  const [coordinator, agent, client] = blocks('usage', '# Using it', 'ts')
  // The one change: free ports instead of 3737 and 3780, which may be taken here.
  const port = String(freePort())
  const httpPort = String(freePort())
  const ported = (snippet: string) =>
    snippet.replaceAll('3737', port).replace('port: 3780', `port: ${httpPort}`)
  const running: Running[] = []
  try {
    for (
      const [file, snippet] of [['coordinator.ts', coordinator], ['agent.ts', agent], [
        'client.ts',
        client,
      ]]
    ) {
      await Deno.writeTextFile(`${dir}/${file}`, ported(snippet))
    }
    running.push(deno(dir, 'coordinator.ts', coordinator))
    await running[0].waitFor(/^coordinator on tcp:\/\/127\.0\.0\.1:\d+, dashboard on http/, {
      timeoutMs: 30_000,
    })
    running.push(deno(dir, 'agent.ts', agent))
    await running[1].waitFor(/^agent-1 serves on tcp:\/\/127\.0\.0\.1:\d+$/, { timeoutMs: 30_000 })
    const user = deno(dir, 'client.ts', client)
    running.push(user)
    const timer = setTimeout(() => user.kill('SIGKILL'), 60_000)
    const { code } = await user.exited()
    clearTimeout(timer)
    assert.equal(code, 0, user.stderr.join('\n'))
    assert.equal(user.stdout[0], '{ operation: "find", data: { query: "x" } }')
    assert.ok(user.stdout.some((line) => /^event \{ hello: "/.test(line)), user.stdout.join('\n'))
  } finally {
    for (const process of running.reverse()) await process.stop()
    await Deno.remove(dir, { recursive: true })
  }
})
