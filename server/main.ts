/**
 * Entry point of the coordinator process (`deno task start`).
 *
 * The coordinator server is built by a later issue; until then this entry point
 * says so and exits.
 *
 * @module
 */

if (import.meta.main) {
  const message = 'huly-network: the coordinator server arrives with issue #4 ' +
    '(RPC protocol and NetworkServer); the core model is in ./core.\n'
  await Deno.stderr.write(new TextEncoder().encode(message))
  Deno.exit(0)
}
