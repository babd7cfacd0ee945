/**
 * The NULL mechanism (RFC 37): each side sends READY with its metadata. A server
 * answers the client's READY only after asking ZAP (when its socket has a ZAP
 * domain and handler), and sends ERROR instead when ZAP refuses.
 *
 * @module
 */

import {
  command,
  commandData,
  commandName,
  decodeMetadata,
  encodeMetadata,
  errorCommand,
  errorReason,
  type HandshakeStep,
  type Mechanism,
  type MechanismContext,
} from './_mechanism.ts'

/** Creates the NULL mechanism of one connection. */
export function nullMechanism(context: MechanismContext): Mechanism {
  const ready = (): Uint8Array => command('READY', encodeMetadata(context.metadata))
  return {
    name: 'NULL',
    start: () => ({ send: context.asServer ? [] : [ready()] }),
    async receive(body: Uint8Array): Promise<HandshakeStep> {
      const name = commandName(body)
      if (name === 'ERROR') return { send: [], error: errorReason(body) }
      if (name !== 'READY') return { send: [], error: `unexpected ${name || 'command'} in NULL` }
      const metadata = decodeMetadata(commandData(body))
      if (metadata === null) return { send: [], error: 'malformed READY metadata' }
      if (!context.asServer) return { send: [], ready: metadata }
      const verdict = await context.authenticate('NULL')
      if (verdict === null || verdict === false) {
        return { send: [errorCommand('400')], error: 'ZAP refused the peer' }
      }
      const userId = typeof verdict === 'object' ? verdict.userId : ''
      return { send: [ready()], ready: metadata, userId }
    },
  }
}
