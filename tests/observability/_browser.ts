// deno-lint-ignore-file no-console -- a test fixture that answers on stdout
// Drives headless Chromium (Debian's /usr/bin/chromium) with playwright-core for
// the dashboard test, one command per stdin line, one JSON answer per stdout line.
// It is its own process because playwright reads /proc/sys at load, which Deno
// allows only with --allow-all; the test itself keeps the test task's permissions.
// Playwright gives the browser a fresh profile in a temporary folder of its own.
//   {"op":"goto","url":…} {"op":"wait","selector":…,"state":"attached"|"detached"}
//   {"op":"fill","selector":…,"value":…} {"op":"click","selector":…} {"op":"text","selector":…}
//   {"op":"viewport","width":…,"height":…} {"op":"screenshot","path":…} {"op":"problems"}
//   {"op":"close"}
import { chromium } from 'playwright-core'

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
  timeout: 30_000,
})
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
page.setDefaultTimeout(15_000)
// What the page reports: uncaught errors, console errors, requests that failed.
const problems: string[] = []
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
page.on('console', (message) => {
  if (message.type() === 'error') problems.push(`console error: ${message.text()}`)
})
page.on('requestfailed', (request) => {
  // The live stream is cut when the test ends; anything else failing is a problem.
  if (!request.url().endsWith('/api/events')) problems.push(`request failed: ${request.url()}`)
})
console.log(JSON.stringify({ ok: true, value: 'ready' }))

type Command =
  | { op: 'goto'; url: string }
  | { op: 'wait'; selector: string; state?: 'attached' | 'detached' }
  | { op: 'fill'; selector: string; value: string }
  | { op: 'click'; selector: string }
  | { op: 'text'; selector: string }
  | { op: 'viewport'; width: number; height: number }
  | { op: 'screenshot'; path: string }
  | { op: 'problems' }
  | { op: 'close' }

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'goto':
      return (await page.goto(command.url))?.status()
    case 'wait':
      return await page.locator(command.selector).first().waitFor({
        state: command.state ?? 'attached',
      })
    case 'fill':
      return await page.fill(command.selector, command.value)
    case 'click':
      return await page.click(command.selector)
    case 'text':
      return await page.textContent(command.selector)
    case 'viewport':
      return await page.setViewportSize({ width: command.width, height: command.height })
    case 'screenshot':
      return (await page.screenshot({ path: command.path, fullPage: true })).byteLength
    case 'problems':
      return problems
    case 'close':
      await browser.close()
      Deno.exit(0)
  }
}

let buffer = ''
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffer += chunk
  let newline
  while ((newline = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, newline)
    buffer = buffer.slice(newline + 1)
    try {
      console.log(JSON.stringify({ ok: true, value: await run(JSON.parse(line)) ?? null }))
    } catch (error) {
      console.log(JSON.stringify({ ok: false, error: String(error) }))
    }
  }
}
await browser.close()
