import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { spawnSync } from 'node:child_process'
import { describe, expect, test } from 'vitest'
import { buildSchema, print, validate } from 'graphql'
import { buildDocuments } from '../../src/graphql/documents.js'

const web = resolve(__dirname, '../..')
const repo = resolve(web, '..')
const opsDir = join(repo, 'graphql/operations')
const schemaText = readFileSync(join(repo, 'graphql/schema.graphql'), 'utf8')
const sources = readdirSync(opsDir).filter((f) => f.endsWith('.graphql')).sort().map((f) => readFileSync(join(opsDir, f), 'utf8'))

describe('operation documents', () => {
  const docs = buildDocuments(sources)
  test('every operation validates against the schema as sent', () => {
    const schema = buildSchema(schemaText)
    expect(docs.size).toBeGreaterThan(5)
    for (const [name, doc] of docs) expect(validate(schema, doc).map((e) => `${name}: ${e.message}`)).toEqual([])
  })
  test('a document carries only the fragments it uses', () => {
    const names = (doc) => doc.definitions.map((d) => d.name.value)
    expect(names(docs.get('PasteContent'))).toEqual(['PasteContent', 'PasteFileContent'])
    expect(names(docs.get('PasteMeta'))).toEqual(['PasteMeta', 'PasteMeta'])
    expect(new Set(names(docs.get('RecentPastes')))).toEqual(new Set(['RecentPastes', 'PasteConnectionPage', 'PasteMeta']))
  })
  // UpdatePaste and ForkPaste return the paste their caller just wrote (no view is counted);
  // RevisionFiles reads revisions for a diff, and only pastes that were edited have more than
  // one (burn-after-reading and maxViews pastes are never edited; the server refuses their
  // content to it anyway).
  test('burn-after-reading safety: only the readers of content select it', () => {
    for (const [name, doc] of docs) {
      const selectsContent = /\bcontent\b/.test(print(doc).replace(/input:/g, ''))
      if (['PasteContent', 'RevealPaste', 'CreatePaste', 'UpdatePaste', 'ForkPaste', 'RevisionFiles'].includes(name)) continue
      expect(selectsContent, name).toBe(false)
    }
    expect(print(docs.get('CreatePaste'))).not.toMatch(/^\s+content$/m)
  })
  test('unknown fragments and duplicate names are errors', () => {
    expect(() => buildDocuments('query A { ...Nope }')).toThrow(/unknown fragment Nope/)
    expect(() => buildDocuments(['query A { me { id } }', 'query A { me { id } }'])).toThrow(/duplicate operation A/)
    expect(() => buildDocuments('{ me { id } }')).toThrow(/needs a name/)
  })
})

describe('npm run check:ops', () => {
  const run = (env = {}) => spawnSync(process.execPath, [join(web, 'scripts/check-operations.mjs')], { env: { ...process.env, ...env }, encoding: 'utf8' })
  test('passes on the current schema', () => {
    const r = run()
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
  test('fails when the schema drops a field the app uses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-'))
    const broken = join(dir, 'schema.graphql')
    writeFileSync(broken, schemaText.replace("remainingViews: Int", "remainingViewsRenamed: Int"))
    const r = run({ PASTEBIN_SCHEMA: broken })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/fragments\.graphql:\d+:\d+: Cannot query field "remainingViews"/)
  })
})

// The operations of encrypted pastes validate against the committed schema like the others
// (check:ops); here, that the schema has what they need.
describe('encrypted pastes', () => {
  test('the schema has the envelope and the operations use it', () => {
    expect(schemaText).toMatch(/\btype EncryptedEnvelope\b/)
    expect(schemaText).toMatch(/\binput EncryptedInput\b/)
    const docs = buildDocuments(sources)
    for (const name of ['PasteEncrypted', 'RevealPasteEncrypted']) {
      expect(docs.has(name), name).toBe(true)
      expect(validate(buildSchema(schemaText), docs.get(name)).map((e) => `${name}: ${e.message}`)).toEqual([])
    }
  })
})
