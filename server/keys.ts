/**
 * Key files and the coordinator's access file: CURVE keys in Z85 text files, and
 * the JSON list of the peers the coordinator knows.
 *
 * @module
 */
import { dirname, isAbsolute, join } from 'node:path'
import type { PeerGrant, PeerRole } from '../security/access.ts'
import { InvalidArgumentError } from '../common/errors.ts'
import { assertZ85Key, curveKeyPair, curvePublicKey } from '../rpc/curve_keys.ts'

/**
 * What the access file holds once read: the coordinator's key pair and the peers
 * it accepts.
 *
 * @example
 * ```ts
 * import type { AccessConfig } from '@huly/network/server'
 * const access: AccessConfig = { secretKey: '…', publicKey: '…', peers: [] }
 * ```
 */
export interface AccessConfig {
  /** The coordinator's CURVE secret key. */
  secretKey: string
  /** Its public key, derived from the secret key. */
  publicKey: string
  /** Every peer it accepts, with its rights. */
  peers: PeerGrant[]
}

/**
 * Whether `text` is a CURVE key: 40 Z85 characters.
 *
 * @example
 * ```ts
 * import { isZ85Key } from '@huly/network/internal'
 * console.assert(!isZ85Key('agent-1.pub'))
 * ```
 */
export function isZ85Key(text: string): boolean {
  try {
    assertZ85Key(text, 'key')
    return true
  } catch {
    return false
  }
}

/**
 * Reads one Z85 key from a file (the first line; `#` comment lines are skipped).
 * Throws an {@link InvalidArgumentError} naming the file when it holds no key.
 *
 * @example
 * ```ts ignore
 * import { readKeyFile } from '@huly/network/server'
 * const secretKey = await readKeyFile('coordinator.key')
 * ```
 */
export async function readKeyFile(path: string): Promise<string> {
  let text
  try {
    text = await Deno.readTextFile(path)
  } catch (error) {
    throw new InvalidArgumentError(`cannot read the key file ${path}: ${(error as Error).message}`)
  }
  const key = text.split('\n').map((line) => line.trim()).find((line) =>
    line !== '' && !line.startsWith('#')
  )
  if (key === undefined || !isZ85Key(key)) {
    throw new InvalidArgumentError(`${path} holds no 40-character Z85 CURVE key`)
  }
  return key
}

/**
 * Writes a new key pair: `<base>.key` (the secret key, mode 0600) and `<base>.pub`
 * (the public key, mode 0644). Refuses to replace existing files unless `force`.
 * Returns the public key.
 *
 * @example
 * ```ts ignore
 * import { writeKeyPair } from '@huly/network/server'
 * const publicKey = await writeKeyPair('agent-1')
 * ```
 */
export async function writeKeyPair(base: string, force = false): Promise<string> {
  const { publicKey, secretKey } = curveKeyPair()
  const secretPath = `${base}.key`
  const publicPath = `${base}.pub`
  for (const path of [secretPath, publicPath]) {
    try {
      await Deno.lstat(path)
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue
      throw error
    }
    if (!force) throw new InvalidArgumentError(`${path} exists; use --force to replace it`)
    // A new file, not an old one rewritten: its old mode may let others read it.
    await Deno.remove(path)
  }
  // Created with mode 0600 (and only created: never through a link planted there).
  await Deno.writeTextFile(secretPath, `${secretKey}\n`, { mode: 0o600, createNew: true })
  await Deno.writeTextFile(publicPath, `${publicKey}\n`, { mode: 0o644, createNew: true })
  return publicKey
}

/**
 * Reads the coordinator's access file (JSON):
 *
 * ```json
 * {
 *   "secretKeyFile": "coordinator.key",
 *   "peers": [
 *     { "name": "agent-1", "publicKeyFile": "agent-1.pub", "role": "agent", "kinds": ["echo"] },
 *     { "name": "frontend-42", "publicKey": "…40 Z85…", "role": "client", "labels": ["workspace:42"] },
 *     { "name": "ops", "publicKeyFile": "ops.pub", "role": "admin" }
 *   ]
 * }
 * ```
 *
 * Relative paths are relative to the access file. Throws an
 * {@link InvalidArgumentError} naming the file and the entry on bad input.
 *
 * @example
 * ```ts ignore
 * import { readAccessFile } from '@huly/network/server'
 * const access = await readAccessFile('/etc/huly-network/access.json')
 * console.log(access.publicKey, access.peers.length)
 * ```
 */
export async function readAccessFile(path: string): Promise<AccessConfig> {
  let json: Record<string, unknown>
  try {
    json = JSON.parse(await Deno.readTextFile(path))
  } catch (error) {
    throw new InvalidArgumentError(
      `cannot read the access file ${path}: ${(error as Error).message}`,
    )
  }
  const where = (file: string) => isAbsolute(file) ? file : join(dirname(path), file)
  try {
    if (json === null || typeof json !== 'object' || typeof json.secretKeyFile !== 'string') {
      throw new InvalidArgumentError('it needs "secretKeyFile": the coordinator\'s secret key')
    }
    const secretKey = await readKeyFile(where(json.secretKeyFile))
    if (!Array.isArray(json.peers)) throw new InvalidArgumentError('"peers" must be a list')
    const peers: PeerGrant[] = []
    for (const [index, entry] of json.peers.entries()) {
      const file = (entry as { publicKeyFile?: unknown } | null)?.publicKeyFile
      const resolved = typeof file === 'string'
        ? { ...entry, publicKeyFile: undefined, publicKey: await readKeyFile(where(file)) }
        : entry
      peers.push(parsePeerGrant(resolved, index))
    }
    const names = new Set<string>()
    const keys = new Set<string>()
    for (const peer of peers) {
      if (names.has(peer.name)) throw new InvalidArgumentError(`the name ${peer.name} is twice`)
      if (keys.has(peer.publicKey)) {
        throw new InvalidArgumentError(`the public key of ${peer.name} is given twice`)
      }
      names.add(peer.name)
      keys.add(peer.publicKey)
    }
    return { secretKey, publicKey: curvePublicKey(secretKey), peers }
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error
    throw new InvalidArgumentError(`access file ${path}: ${error.message}`)
  }
}

const ROLES: readonly PeerRole[] = ['agent', 'client', 'admin']

/** Checks one peer entry of the access file and returns a clean copy. */
function parsePeerGrant(value: unknown, index: number): PeerGrant {
  const entry = value as Record<string, unknown> | null
  const where = `peers[${index}]`
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new InvalidArgumentError(`${where} must be an object`)
  }
  const { name, publicKey, role, kinds, labels } = entry
  if (typeof name !== 'string' || !/^[\w.:@-]{1,128}$/.test(name)) {
    throw new InvalidArgumentError(`${where}.name must be 1 to 128 of [A-Za-z0-9_.:@-]`)
  }
  if (typeof publicKey !== 'string' || !isZ85Key(publicKey)) {
    throw new InvalidArgumentError(`${where}.publicKey must be a 40-character Z85 CURVE key`)
  }
  if (!ROLES.includes(role as PeerRole)) {
    throw new InvalidArgumentError(`${where}.role must be one of ${ROLES.join(', ')}`)
  }
  const grant: PeerGrant = { name, publicKey, role: role as PeerRole }
  if (kinds !== undefined) grant.kinds = stringList(kinds, `${where}.kinds`)
  if (labels !== undefined) grant.labels = stringList(labels, `${where}.labels`)
  return grant
}

function stringList(value: unknown, where: string): string[] {
  if (
    !Array.isArray(value) ||
    !value.every((item) => typeof item === 'string' && item.length > 0)
  ) {
    throw new InvalidArgumentError(`${where} must be a list of non-empty strings`)
  }
  return [...value]
}
