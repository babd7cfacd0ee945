/**
 * CURVE key helpers (Z85-encoded Curve25519 keys, as libzmq expects them). They
 * live in `../curve_keys.ts`, in JavaScript, so the native ZMTP transport needs
 * no libzmq for them; this module keeps the names the libzmq layer imports.
 *
 * @module
 */

export {
  assertZ85Key,
  type CurveKeyPair,
  curveKeyPair,
  curvePublicKey,
  z85Decode,
  z85Encode,
} from '../curve_keys.ts'
