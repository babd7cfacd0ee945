import assert from 'node:assert/strict'

Deno.test('the project loads', async () => {
  const mod = await import('../../mod.ts')
  assert.equal(typeof mod, 'object')
})
