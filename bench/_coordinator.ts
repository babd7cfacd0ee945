// deno-lint-ignore-file no-console -- a benchmark helper that answers on stdout
/**
 * The coordinator as the benchmarks run it: `cli/serve.ts`, plus one command on
 * stdin. The line `heap` collects garbage (the process runs with
 * `--v8-flags=--expose-gc`) and answers `heap <bytes>`, the V8 heap in use, so
 * memory per container can be read without the garbage and slack in RSS.
 *
 * @module
 */
import { runCoordinator } from '../cli/serve.ts'

const collect = (globalThis as { gc?: () => void }).gc

async function answerHeapQueries(): Promise<void> {
  let buffer = ''
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffer += chunk
    let newline
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim()
      buffer = buffer.slice(newline + 1)
      if (line !== 'heap') continue
      collect?.()
      collect?.()
      console.log(`heap ${collect === undefined ? -1 : Deno.memoryUsage().heapUsed}`)
    }
  }
}

void answerHeapQueries()
Deno.exit(await runCoordinator(Deno.args, 'huly-network'))
