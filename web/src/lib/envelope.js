// The encrypted-paste format, version 1 (docs/encryption.md), in the browser: the same API
// and error codes as the Rust crate crates/envelope, checked against the same test vectors
// (docs/encryption-vectors.json).
//
// WebCrypto only (crypto.subtle: AES-GCM, PBKDF2) and the browser's CompressionStream for
// zlib: no hand-written cryptography and no crypto package. crypto.subtle exists only in
// secure contexts (https, or http://localhost): elsewhere `encryptionAvailable()` is false.
//
// A bundle is { title: string|null, files: [{ name, language: string|null, content }] }.
// Keys travel as text (43 characters of base64url), the value of `k=` in the fragment.

export const VERSION = 1
export const ALGORITHM = 'aes-256-gcm'
export const KDF_NONE = 'none'
export const KDF_PBKDF2_SHA256 = 'pbkdf2-sha256'
export const PBKDF2_ITERATIONS = 600_000
export const MIN_ITERATIONS = 600_000
export const MAX_ITERATIONS = 2_000_000
export const KEY_LEN = 32
export const NONCE_LEN = 12
export const SALT_LEN = 16
export const TAG_LEN = 16
export const MAX_BUNDLE_BYTES = 32 * 1024 * 1024
export const MAX_FILES = 100
export const MAX_FILE_NAME_BYTES = 255
export const MAX_TITLE_CHARS = 200
export const MAX_LANGUAGE_BYTES = 32

/** Every failure of this module: `code` is one of the codes of docs/encryption.md. */
export class EnvelopeError extends Error {
  constructor(code, message, extra = {}) {
    super(message)
    this.name = 'EnvelopeError'
    this.code = code
    Object.assign(this, extra)
  }
}

const fail = (code, message, extra) => {
  throw new EnvelopeError(code, message, extra)
}

function subtle() {
  const s = globalThis.crypto?.subtle
  if (!s) fail('UNAVAILABLE', 'Encryption needs a secure connection (https): this browser offers no WebCrypto here.')
  return s
}

export { encryptionAvailable } from './can-encrypt.js'

// ---- base64url without padding, strict ----

/** @param {Uint8Array} bytes */
export function encodeBase64url(bytes) {
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * Strict: only A-Z a-z 0-9 - _, no padding, no whitespace, and canonical (the unused low bits
 * of the last character are zero), as the Rust crate and the server read it. Null if not.
 * @returns {Uint8Array|null}
 */
export function decodeBase64url(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4)
  let bin
  try {
    bin = atob(b64)
  } catch {
    return null
  }
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return encodeBase64url(bytes) === text ? bytes : null
}

// ---- keys ----

/** A new random key, as the text that goes after `#k=`. */
export function generateKey() {
  const bytes = new Uint8Array(KEY_LEN)
  globalThis.crypto.getRandomValues(bytes)
  return encodeBase64url(bytes)
}

/** The key's bytes from its text; throws INVALID_KEY (MISSING_KEY for null: no `k=`). */
export function decodeKey(text) {
  if (text == null) fail('MISSING_KEY', 'The link has no key (#k=…).')
  const bytes = decodeBase64url(text)
  if (!bytes || bytes.length !== KEY_LEN) fail('INVALID_KEY', "The link's key is damaged: it must be 43 characters of base64url.")
  return bytes
}

// ---- the bundle ----

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const LANGUAGE = /^[A-Za-z0-9+#\-_.]+$/
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

const utf8 = new TextEncoder()

/** A one-text paste as a bundle; `name` defaults to `paste.txt`. */
export function textBundle({ title = null, language = null, content, name = 'paste.txt' }) {
  return { title: title || null, files: [{ name, language: language || null, content }] }
}

/** The rules writers and readers apply (the Rust crate's `Bundle::validate`). */
export function validateBundle(bundle) {
  const bad = (message) => fail('INVALID_BUNDLE', message)
  if (!bundle || typeof bundle !== 'object') bad('a bundle is an object')
  const { title, files } = bundle
  if (title != null) {
    if (typeof title !== 'string') bad('title must be text')
    if ([...title].length > MAX_TITLE_CHARS) bad(`title is longer than ${MAX_TITLE_CHARS} characters`)
    if (CONTROL.test(title)) bad('title has control characters')
  }
  if (!Array.isArray(files) || files.length === 0) bad('a bundle has at least one file')
  if (files.length > MAX_FILES) bad(`a bundle has at most ${MAX_FILES} files`)
  const names = new Set()
  for (const f of files) {
    if (!f || typeof f !== 'object' || typeof f.name !== 'string' || typeof f.content !== 'string') bad('a file has a name and a content')
    const n = f.name
    if (!n || utf8.encode(n).length > MAX_FILE_NAME_BYTES || n === '.' || n === '..' || /[/\\]/.test(n) || CONTROL.test(n)) {
      bad(`file name ${JSON.stringify(n)} must be 1 to ${MAX_FILE_NAME_BYTES} bytes, without / \\ or control characters, and not . or ..`)
    }
    if (names.has(n)) bad(`file name ${JSON.stringify(n)} appears twice`)
    names.add(n)
    if (f.language != null && (typeof f.language !== 'string' || f.language.length > MAX_LANGUAGE_BYTES || !LANGUAGE.test(f.language))) {
      bad(`language ${JSON.stringify(f.language)} must be 1 to ${MAX_LANGUAGE_BYTES} characters of a-z, 0-9, + # - _ .`)
    }
    if (f.content.includes('\0')) bad(`file ${JSON.stringify(n)} is not text (it contains NUL)`)
  }
  for (const s of [title, ...files.flatMap((f) => [f.name, f.content])]) {
    if (typeof s === 'string' && LONE_SURROGATE.test(s)) bad('the bundle has text that is not Unicode (a lone surrogate)')
  }
}

function wellFormed(s) {
  if (typeof s !== 'string') return s
  return typeof s.toWellFormed === 'function' ? s.toWellFormed() : s.replace(new RegExp(LONE_SURROGATE, 'g'), '\ufffd')
}

/** The canonical JSON of a bundle: fields in this order, nulls written (as the Rust crate). */
export function bundleJson(bundle) {
  return JSON.stringify({
    title: bundle.title ?? null,
    files: bundle.files.map((f) => ({ name: f.name, language: f.language ?? null, content: f.content })),
  })
}

async function pipe(bytes, transform) {
  const stream = new Blob([bytes]).stream().pipeThrough(transform)
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

/** JSON, then zlib: the bytes that are encrypted. */
export async function encodeBundle(bundle) {
  const clean = {
    title: wellFormed(bundle.title ?? null),
    files: (bundle.files || []).map((f) => ({ name: wellFormed(f.name), language: f.language ?? null, content: wellFormed(f.content) })),
  }
  validateBundle(clean)
  const json = utf8.encode(bundleJson(clean))
  if (json.length > MAX_BUNDLE_BYTES) fail('BUNDLE_TOO_LARGE', `The paste is larger than ${MAX_BUNDLE_BYTES} bytes.`)
  return pipe(json, new CompressionStream('deflate'))
}

/** The inverse of encodeBundle; refuses to inflate past MAX_BUNDLE_BYTES. */
export async function decodeBundle(payload) {
  const reader = new Blob([payload]).stream().pipeThrough(new DecompressionStream('deflate')).getReader()
  const chunks = []
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.length
      if (total > MAX_BUNDLE_BYTES) {
        reader.cancel().catch(() => {})
        fail('INVALID_BUNDLE', `the bundle is larger than ${MAX_BUNDLE_BYTES} bytes`)
      }
      chunks.push(value)
    }
  } catch (e) {
    if (e instanceof EnvelopeError) throw e
    fail('INVALID_BUNDLE', 'the payload is not zlib data')
  }
  const json = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    json.set(c, at)
    at += c.length
  }
  let bundle
  try {
    bundle = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json))
  } catch {
    fail('INVALID_BUNDLE', 'the bundle is not valid JSON')
  }
  validateBundle(bundle)
  return {
    title: bundle.title ?? null,
    files: bundle.files.map((f) => ({ name: f.name, language: f.language ?? null, content: f.content })),
  }
}

// ---- the envelope ----

/**
 * The server's checks (docs/encryption.md, "Validation"), returning the decoded parts.
 * `maxCiphertextBytes` bounds the decoded ciphertext (omit it to skip that check).
 */
export function validateEnvelope(envelope, maxCiphertextBytes = null) {
  const invalid = (field, reason) => fail('INVALID_ENVELOPE', `invalid envelope: ${field} ${reason}`, { field })
  if (!envelope || typeof envelope !== 'object') invalid('envelope', 'is missing')
  const { version, algorithm, kdf, salt, iterations, nonce, ciphertext } = envelope
  if (version !== VERSION) fail('UNSUPPORTED_VERSION', `unsupported encryption format version ${version} (supported: 1)`, { version })
  if (algorithm !== ALGORITHM) fail('UNSUPPORTED_ALGORITHM', `unsupported encryption algorithm ${JSON.stringify(algorithm)}`)
  let saltBytes = null
  if (kdf === KDF_NONE) {
    if (salt != null) invalid('salt', 'must be null when kdf is "none"')
    if (iterations != null) invalid('iterations', 'must be null when kdf is "none"')
  } else if (kdf === KDF_PBKDF2_SHA256) {
    if (salt == null) invalid('salt', 'is required with a password')
    saltBytes = decodeBase64url(salt)
    if (!saltBytes || saltBytes.length !== SALT_LEN) invalid('salt', 'must be 16 bytes of base64url')
    if (iterations == null) invalid('iterations', 'is required with a password')
    if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) invalid('iterations', 'must be 600000 to 2000000')
  } else {
    fail('UNSUPPORTED_KDF', `unsupported key derivation ${JSON.stringify(kdf)}`)
  }
  const nonceBytes = decodeBase64url(nonce)
  if (!nonceBytes || nonceBytes.length !== NONCE_LEN) invalid('nonce', 'must be 12 bytes of base64url')
  if (typeof ciphertext !== 'string') invalid('ciphertext', 'must be base64url without padding')
  if (maxCiphertextBytes != null) {
    const bytes = Math.floor(ciphertext.length / 4) * 3 + Math.max(0, (ciphertext.length % 4) - 1)
    if (bytes > maxCiphertextBytes) fail('ENVELOPE_TOO_LARGE', `the ciphertext is ${bytes} bytes; the limit is ${maxCiphertextBytes}`)
  }
  const ct = decodeBase64url(ciphertext)
  if (!ct) invalid('ciphertext', 'must be base64url without padding')
  if (ct.length <= TAG_LEN) invalid('ciphertext', 'is shorter than its tag')
  return { salt: saltBytes, iterations: saltBytes ? iterations : 0, nonce: nonceBytes, ciphertext: ct }
}

/** The associated data: `["pastebin-envelope",version,algorithm,kdf,salt|null,iterations|null,burn]`. */
export function associatedData(envelope, burnAfterReading) {
  return JSON.stringify([
    'pastebin-envelope',
    envelope.version,
    envelope.algorithm,
    envelope.kdf,
    envelope.salt ?? null,
    envelope.iterations ?? null,
    !!burnAfterReading,
  ])
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/**
 * The AES-GCM key: the fragment key itself, or with a password
 * PBKDF2-HMAC-SHA-256(fragment key ‖ UTF-8(NFC(password)), salt, iterations, 256 bits).
 * Not extractable unless asked (the test vectors compare it).
 */
export async function aesKey(keyBytes, password, salt, iterations, { extractable = false } = {}) {
  const s = subtle()
  const usage = ['encrypt', 'decrypt']
  if (!salt) return s.importKey('raw', keyBytes, { name: 'AES-GCM' }, extractable, usage)
  const secret = concat(keyBytes, utf8.encode(password.normalize('NFC')))
  try {
    const base = await s.importKey('raw', secret, { name: 'PBKDF2' }, false, ['deriveKey'])
    return await s.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, { name: 'AES-GCM', length: 256 }, extractable, usage)
  } finally {
    secret.fill(0)
  }
}

/**
 * Encrypts payload bytes (an encoded bundle) with the randomness given. For the test
 * vectors and for `seal`; a nonce must never repeat under one key.
 */
export async function sealPayload(payload, { burnAfterReading = false, password = null, key, nonce, salt = null, iterations = PBKDF2_ITERATIONS }) {
  if (password === '') fail('EMPTY_PASSWORD', 'An empty password protects nothing: give none instead.')
  const keyBytes = decodeKey(key)
  const envelope = {
    version: VERSION,
    algorithm: ALGORITHM,
    kdf: password == null ? KDF_NONE : KDF_PBKDF2_SHA256,
    salt: password == null ? null : encodeBase64url(salt),
    iterations: password == null ? null : iterations,
    nonce: encodeBase64url(nonce),
    ciphertext: '',
  }
  const k = await aesKey(keyBytes, password, password == null ? null : salt, iterations)
  const ct = await subtle().encrypt({ name: 'AES-GCM', iv: nonce, additionalData: utf8.encode(associatedData(envelope, burnAfterReading)), tagLength: 128 }, k, payload)
  envelope.ciphertext = encodeBase64url(new Uint8Array(ct))
  return envelope
}

/**
 * Encrypts a bundle under a new random key (and the password, if any). An edit passes the
 * link's `key` to seal the new revision under it (with a new nonce and salt), so the link
 * keeps opening the paste.
 * @returns {Promise<{ envelope: object, key: string }>} key: the text for `#k=`
 */
export async function seal(bundle, { burnAfterReading = false, password = null, key: linkKey = null } = {}) {
  subtle()
  if (password === '') fail('EMPTY_PASSWORD', 'An empty password protects nothing: give none instead.')
  const payload = await encodeBundle(bundle)
  const key = linkKey ?? generateKey()
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LEN))
  const salt = password == null ? null : globalThis.crypto.getRandomValues(new Uint8Array(SALT_LEN))
  const envelope = await sealPayload(payload, { burnAfterReading, password, key, nonce, salt })
  return { envelope, key }
}

/**
 * Decrypts an envelope with the link's key (text) and the password, when the paste has one;
 * `burnAfterReading` as the server reports it. A password for a paste without one is ignored.
 * @returns {Promise<{ title: string|null, files: {name: string, language: string|null, content: string}[] }>}
 */
export async function open(envelope, key, { password = null, burnAfterReading = false } = {}) {
  const parts = validateEnvelope(envelope)
  const keyBytes = decodeKey(key)
  if (parts.salt && !password) fail('PASSWORD_REQUIRED', 'This paste is protected by a password.')
  const k = await aesKey(keyBytes, password, parts.salt, parts.iterations)
  const attempt = async (burn) => {
    try {
      const iv = parts.nonce
      const additionalData = utf8.encode(associatedData(envelope, burn))
      return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv, additionalData, tagLength: 128 }, k, parts.ciphertext))
    } catch {
      return null
    }
  }
  let payload = await attempt(burnAfterReading)
  if (!payload) {
    // The same key opens it with the other setting: the server changed it.
    if (await attempt(!burnAfterReading)) {
      fail('SETTINGS_CHANGED', `The paste was sealed with burn after reading ${burnAfterReading ? 'off' : 'on'}, but the server serves it ${burnAfterReading ? 'with' : 'without'} it: its settings were changed after it was made.`, { sealedBurnAfterReading: !burnAfterReading })
    }
    if (parts.salt) fail('WRONG_KEY_OR_PASSWORD', "Wrong password, or the link's key is damaged.")
    fail('WRONG_KEY', "The link's key does not open this paste: the link is incomplete or damaged, or the paste was altered.")
  }
  try {
    return await decodeBundle(payload)
  } finally {
    payload.fill(0)
  }
}
