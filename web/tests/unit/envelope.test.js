// The browser's implementation of the encrypted-paste format against the shared test vectors
// (docs/encryption-vectors.json, also checked by crates/envelope). Runs on node's WebCrypto
// and CompressionStream, the same APIs a browser has.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { deflateSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import {
  EnvelopeError,
  MAX_BUNDLE_BYTES,
  aesKey,
  associatedData,
  bundleJson,
  decodeBase64url,
  decodeBundle,
  decodeKey,
  encodeBase64url,
  encodeBundle,
  encryptionAvailable,
  generateKey,
  open,
  seal,
  sealPayload,
  textBundle,
  validateBundle,
  validateEnvelope,
} from '../../src/lib/envelope.js'

const vectors = JSON.parse(readFileSync(resolve(__dirname, '../../../docs/encryption-vectors.json'), 'utf8'))

async function codeOf(promise) {
  try {
    await promise
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e
    return e.code
  }
  return null
}
function syncCodeOf(fn) {
  try {
    fn()
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e
    return e.code
  }
  return null
}

const sample = {
  title: 'Two files ✓',
  files: [
    { name: 'main.rs', language: 'rust', content: 'fn main() {\n    println!("héllo");\n}\n' },
    { name: 'notes.md', language: null, content: '# Notes\n' },
  ],
}

describe('test vectors', () => {
  test('the file has what both implementations check', () => {
    expect(vectors.positive.length).toBeGreaterThanOrEqual(4)
    expect(vectors.negative.length).toBeGreaterThanOrEqual(20)
    expect(encryptionAvailable()).toBe(true)
  })

  for (const p of vectors.positive) {
    test(`opens ${p.name}`, async () => {
      const bundle = await open(p.envelope, p.key, { password: p.password, burnAfterReading: p.burnAfterReading })
      expect(bundle).toEqual({ title: p.bundle.title, files: p.bundle.files.map((f) => ({ name: f.name, language: f.language, content: f.content })) })
      expect(bundleJson(bundle)).toBe(p.bundleJson)
    })

    test(`seals ${p.name} to the same ciphertext`, async () => {
      const payload = decodeBase64url(p.payload)
      expect(await decodeBundle(payload)).toEqual(await open(p.envelope, p.key, { password: p.password, burnAfterReading: p.burnAfterReading }))
      expect(associatedData(p.envelope, p.burnAfterReading)).toBe(p.associatedData)
      const env = await sealPayload(payload, {
        burnAfterReading: p.burnAfterReading,
        password: p.password,
        key: p.key,
        nonce: decodeBase64url(p.envelope.nonce),
        salt: p.envelope.salt ? decodeBase64url(p.envelope.salt) : null,
        iterations: p.envelope.iterations ?? undefined,
      })
      expect(env).toEqual(p.envelope)
      const k = await aesKey(decodeKey(p.key), p.password, p.envelope.salt ? decodeBase64url(p.envelope.salt) : null, p.envelope.iterations, { extractable: true })
      expect(encodeBase64url(new Uint8Array(await crypto.subtle.exportKey('raw', k)))).toBe(p.aesKey)
    })
  }

  for (const n of vectors.negative) {
    test(`refuses ${n.name}: ${n.error}`, async () => {
      expect(await codeOf(open(n.envelope, n.key, { password: n.password, burnAfterReading: n.burnAfterReading }))).toBe(n.error)
    })
  }

  test('keys', () => {
    for (const k of vectors.keys) {
      if (k.error) expect(syncCodeOf(() => decodeKey(k.text)), k.text || '(empty)').toBe(k.error)
      else expect(encodeBase64url(decodeKey(k.text))).toBe(k.bytes)
    }
  })
})

describe('seal and open', () => {
  test('round trip without a password', async () => {
    const { envelope, key } = await seal(sample)
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(envelope).toMatchObject({ version: 1, algorithm: 'aes-256-gcm', kdf: 'none', salt: null, iterations: null })
    expect(validateEnvelope(envelope, 1 << 20).nonce).toHaveLength(12)
    expect(await open(envelope, key)).toEqual(sample)
    expect(await open(envelope, key, { password: 'ignored' })).toEqual(sample)
  })

  test('round trip with a password and burn after reading', async () => {
    const { envelope, key } = await seal(sample, { password: 'hunter2', burnAfterReading: true })
    expect(envelope).toMatchObject({ kdf: 'pbkdf2-sha256', iterations: 600000 })
    expect(decodeBase64url(envelope.salt)).toHaveLength(16)
    expect(await open(envelope, key, { password: 'hunter2', burnAfterReading: true })).toEqual(sample)
    expect(await codeOf(open(envelope, key, { password: 'hunter3', burnAfterReading: true }))).toBe('WRONG_KEY_OR_PASSWORD')
    expect(await codeOf(open(envelope, key, { burnAfterReading: true }))).toBe('PASSWORD_REQUIRED')
    expect(await codeOf(open(envelope, key, { password: '', burnAfterReading: true }))).toBe('PASSWORD_REQUIRED')
    expect(await codeOf(open(envelope, key, { password: 'hunter2', burnAfterReading: false }))).toBe('SETTINGS_CHANGED')
  })

  test('each seal has its own key and nonce', async () => {
    const a = await seal(sample)
    const b = await seal(sample)
    expect(a.key).not.toBe(b.key)
    expect(a.envelope.nonce).not.toBe(b.envelope.nonce)
    expect(await codeOf(open(a.envelope, b.key))).toBe('WRONG_KEY')
  })

  test('an edit reseals under the link\'s key with a new nonce and salt', async () => {
    const first = await seal(sample, { password: 'pw' })
    const edited = { ...sample, title: 'edited' }
    const second = await seal(edited, { password: 'pw', key: first.key })
    expect(second.key).toBe(first.key)
    expect(second.envelope.nonce).not.toBe(first.envelope.nonce)
    expect(second.envelope.salt).not.toBe(first.envelope.salt)
    expect(await open(second.envelope, first.key, { password: 'pw' })).toEqual(edited)
  })

  test('an empty password is refused, a missing or damaged key is told apart', async () => {
    expect(await codeOf(seal(sample, { password: '' }))).toBe('EMPTY_PASSWORD')
    const { envelope, key } = await seal(sample)
    expect(await codeOf(open(envelope, null))).toBe('MISSING_KEY')
    expect(await codeOf(open(envelope, key.slice(0, 40)))).toBe('INVALID_KEY')
  })

  test('a lone surrogate is sealed as U+FFFD (the Rust reader could not read it)', async () => {
    const { envelope, key } = await seal(textBundle({ content: 'a\ud800b' }))
    expect((await open(envelope, key)).files[0].content).toBe('a\ufffdb')
  })

  test('a bundle that inflates past the limit is refused', async () => {
    const payload = new Uint8Array(deflateSync(Buffer.alloc(MAX_BUNDLE_BYTES + 1024, 0x20)))
    const key = generateKey()
    const env = await sealPayload(payload, { key, nonce: new Uint8Array(12) })
    const err = await open(env, key).catch((e) => e)
    expect(err.code).toBe('INVALID_BUNDLE')
    expect(err.message).toMatch(/larger than/)
  })

  test("node's zlib and the browser's CompressionStream read each other", async () => {
    const json = bundleJson(sample)
    expect(await decodeBundle(new Uint8Array(deflateSync(json)))).toEqual(sample)
    const ours = await encodeBundle(sample)
    expect(JSON.parse(require('node:zlib').inflateSync(ours).toString('utf8'))).toEqual(sample)
  })
})

describe('rules', () => {
  test('bundles', () => {
    const one = (name, extra = {}) => ({ title: null, files: [{ name, language: null, content: 'x', ...extra }] })
    for (const bad of ['', '.', '..', 'a/b', '..\\x', 'a\nb', 'x'.repeat(256)]) expect(syncCodeOf(() => validateBundle(one(bad))), JSON.stringify(bad)).toBe('INVALID_BUNDLE')
    for (const ok of ['main.rs', '.env', 'Makefile', 'ünï cödé.txt', 'x'.repeat(255)]) expect(syncCodeOf(() => validateBundle(one(ok)))).toBe(null)
    expect(syncCodeOf(() => validateBundle({ title: null, files: [] }))).toBe('INVALID_BUNDLE')
    expect(syncCodeOf(() => validateBundle(one('a', { content: 'nul\0' })))).toBe('INVALID_BUNDLE')
    expect(syncCodeOf(() => validateBundle(one('a', { language: 'c++' })))).toBe(null)
    expect(syncCodeOf(() => validateBundle(one('a', { language: 'no spaces' })))).toBe('INVALID_BUNDLE')
    expect(syncCodeOf(() => validateBundle({ title: 't'.repeat(201), files: one('a').files }))).toBe('INVALID_BUNDLE')
    expect(syncCodeOf(() => validateBundle({ title: '😀'.repeat(200), files: one('a').files }))).toBe(null)
  })

  test('envelopes: the server\'s size rule counts decoded bytes', () => {
    const env = { version: 1, algorithm: 'aes-256-gcm', kdf: 'none', salt: null, iterations: null, nonce: encodeBase64url(new Uint8Array(12)), ciphertext: encodeBase64url(new Uint8Array(100)) }
    expect(syncCodeOf(() => validateEnvelope(env, 100))).toBe(null)
    expect(syncCodeOf(() => validateEnvelope(env, 99))).toBe('ENVELOPE_TOO_LARGE')
    expect(syncCodeOf(() => validateEnvelope({ ...env, iterations: 600000 }))).toBe('INVALID_ENVELOPE')
    expect(syncCodeOf(() => validateEnvelope(null))).toBe('INVALID_ENVELOPE')
  })

  test('base64url is strict and canonical', () => {
    expect(decodeBase64url('AA')).toEqual(new Uint8Array([0]))
    expect(decodeBase64url('AB')).toBe(null)
    expect(decodeBase64url('AA==')).toBe(null)
    expect(decodeBase64url('-_8')).toEqual(new Uint8Array([0xfb, 0xff]))
    expect(decodeBase64url('+/8')).toBe(null)
    expect(decodeBase64url('A')).toBe(null)
    expect(decodeBase64url(' AA')).toBe(null)
    const big = crypto.getRandomValues(new Uint8Array(60_000))
    expect(decodeBase64url(encodeBase64url(big))).toEqual(big)
  })
})
