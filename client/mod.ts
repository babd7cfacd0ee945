/**
 * The `client` module of Huly Network. Its contents arrive with later issues.
 *
 * @module
 */

export {}
