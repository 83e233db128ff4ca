import { describe, expect, test } from 'vitest'
import { EnvelopeError, open, seal } from '../../src/lib/envelope.js'
import {
  bundleFromFiles,
  bundleFromForm,
  encryptedUpdateInput,
  filesOfBundle,
  formFilesOfBundle,
  ciphertextBytes,
  encryptedCreateInput,
  envelopeOnly,
  fileNameFor,
  openErrorState,
  sealErrorState,
  shareLink,
} from '../../src/lib/encrypted.js'
import { parseFragment } from '../../src/lib/fragment.js'

describe('the new-paste form', () => {
  test('a one-text bundle named from its language', () => {
    expect(bundleFromForm({ title: '', language: null, content: 'hi' })).toEqual({ title: null, files: [{ name: 'paste.txt', language: null, content: 'hi' }] })
    expect(bundleFromForm({ title: 'T', language: 'rust', content: 'x' }).files[0].name).toBe('paste.rs')
    expect(fileNameFor('dockerfile')).toBe('Dockerfile')
    expect(fileNameFor('markdown')).toBe('paste.md')
  })

  test('several files: every file, with the language its name says when on auto', () => {
    const forServer = (id) => (!id || id === 'plaintext' ? null : id)
    const b = bundleFromFiles(
      { title: 'T', language: null, files: [{ name: 'main.rs', content: 'fn', language: 'auto' }, { name: 'notes', content: 'n', language: 'markdown' }, { name: 'a.txt', content: 'a', language: 'plaintext' }] },
      forServer,
    )
    expect(b).toEqual({
      title: 'T',
      files: [
        { name: 'main.rs', language: 'rust', content: 'fn' },
        { name: 'notes', language: 'markdown', content: 'n' },
        { name: 'a.txt', language: null, content: 'a' },
      ],
    })
    expect(bundleFromFiles({ title: '', language: 'python', files: [{ name: '', content: 'x', language: 'auto' }] }, forServer)).toEqual({
      title: null,
      files: [{ name: 'paste.py', language: 'python', content: 'x' }],
    })
    expect(filesOfBundle(b).map((f) => [f.name, f.language, f.rawUrl])).toEqual([
      ['main.rs', 'rust', null],
      ['notes', 'markdown', null],
      ['a.txt', null, null],
    ])
    expect(formFilesOfBundle(b).map((f) => f.language)).toEqual(['auto', 'markdown', 'auto'])
    expect(encryptedUpdateInput({ version: 1, __typename: 'X' }, 3)).toEqual({
      baseRevision: 3,
      encrypted: { version: 1, algorithm: null, kdf: null, salt: null, iterations: null, nonce: null, ciphertext: null },
    })
  })

  test('the create input carries the envelope and lifetime settings, nothing readable', async () => {
    const { envelope } = await seal(bundleFromForm({ title: 'secret title', language: 'rust', content: 'secret text' }))
    const input = encryptedCreateInput({ ...envelope, __typename: 'EncryptedEnvelope' }, {
      expiresIn: 3600,
      visibility: 'UNLISTED',
      burnAfterReading: true,
      maxViews: null,
      idempotencyKey: 'k'.repeat(32),
    })
    expect(Object.keys(input).sort()).toEqual(['burnAfterReading', 'encrypted', 'expiresIn', 'idempotencyKey', 'maxViews', 'visibility'])
    expect(Object.keys(input.encrypted)).toEqual(['version', 'algorithm', 'kdf', 'salt', 'iterations', 'nonce', 'ciphertext'])
    const sent = JSON.stringify(input)
    for (const secret of ['secret', 'rust', 'paste.rs']) expect(sent).not.toContain(secret)
  })

  test('the share link has the key in its fragment only', () => {
    const key = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8'
    const link = shareLink('https://paste.example/p/Ab3dE9xY', key)
    expect(link).toBe(`https://paste.example/p/Ab3dE9xY#k=${key}`)
    const url = new URL(link)
    expect(url.pathname + url.search).not.toContain(key)
    expect(parseFragment(url.hash).key).toBe(key)
    expect(shareLink('https://paste.example/p/x#old', null)).toBe('https://paste.example/p/x')
  })

  test('ciphertext size is counted as the server counts it', async () => {
    const { envelope } = await seal(bundleFromForm({ content: 'x'.repeat(1000) }))
    const decoded = Buffer.from(envelope.ciphertext, 'base64url')
    expect(ciphertextBytes(envelope)).toBe(decoded.length)
  })

  test('envelopeOnly drops what Apollo adds', () => {
    expect(envelopeOnly({ version: 1, __typename: 'EncryptedEnvelope' })).toEqual({ version: 1, algorithm: null, kdf: null, salt: null, iterations: null, nonce: null, ciphertext: null })
  })

  test('sealing failures say what to do', () => {
    expect(sealErrorState(new EnvelopeError('UNAVAILABLE', 'x')).kind).toBe('no-webcrypto')
    expect(sealErrorState(new EnvelopeError('BUNDLE_TOO_LARGE', 'too big')).message).toBe('too big')
    expect(sealErrorState(new Error('boom')).kind).toBe('unknown')
  })
})

describe('the paste page', () => {
  test('every way of failing has a message, and only password failures keep the password form', async () => {
    const { envelope, key } = await seal(bundleFromForm({ content: 'x' }), { password: 'pw', burnAfterReading: true })
    const stateOf = (p) => p.then(() => null, openErrorState)
    const required = await stateOf(open(envelope, key, { burnAfterReading: true }))
    expect(required).toMatchObject({ kind: 'password', askPassword: true })
    const wrong = await stateOf(open(envelope, key, { password: 'nope', burnAfterReading: true }))
    expect(wrong).toMatchObject({ kind: 'wrong-password', askPassword: true, title: 'Wrong password' })
    const changed = await stateOf(open(envelope, key, { password: 'pw', burnAfterReading: false }))
    expect(changed).toMatchObject({ kind: 'settings-changed', askPassword: false })
    expect(changed.message).toMatch(/others may have read it/)
    const damaged = await stateOf(open(envelope, key.slice(0, 30), { password: 'pw' }))
    expect(damaged).toMatchObject({ kind: 'invalid-key', askPassword: false })
    const missing = await stateOf(open(envelope, null, { password: 'pw' }))
    expect(missing).toMatchObject({ kind: 'missing-key' })
    const newer = await stateOf(open({ ...envelope, version: 2 }, key, { password: 'pw' }))
    expect(newer).toMatchObject({ kind: 'unsupported' })
    for (const code of ['WRONG_KEY', 'INVALID_ENVELOPE', 'INVALID_BUNDLE', 'ENVELOPE_TOO_LARGE', 'UNAVAILABLE']) {
      const s = openErrorState(new EnvelopeError(code, ''))
      expect(s.title, code).toBeTruthy()
      expect(s.message, code).toBeTruthy()
      expect(s.askPassword, code).toBe(false)
    }
    expect(openErrorState(new TypeError('anything'))).toMatchObject({ kind: 'decrypt-failed', askPassword: false })
  })
})
