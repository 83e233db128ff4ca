// Encrypted pastes in the browser (docs/encryption.md), through the real server.
//
// It proves the browser side — sealing with WebCrypto, the key only in the fragment, decrypting
// a link in a fresh browser, the password prompt, burn after reading's reveal step, edits sealed
// again in the browser, clear messages for damaged links, and that no request a page sends
// carries the key or the password (URL, Referer, body, WebSocket frames) — and that the browser
// and the Rust implementation (crates/envelope, through its `envelope` example: JSON in and
// out) read each other's pastes: sealed in the browser and opened in Rust, sealed in Rust and
// opened in the browser, with and without a password, including burn after reading.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { parseFragment } from '../../src/lib/fragment.js'
import { gql, launch, newPage, problemsOf, shoot } from './helpers.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  await browser?.close()
})

const TEXT = 'fn main() {\n    println!("top secret: héllo 🔐");\n}\n'
const TITLE = 'Launch codes'
const ENVELOPE = 'encrypted { version algorithm kdf salt iterations nonce ciphertext }'

/** The Rust implementation: `envelope seal|open …` (scripts/e2e builds it; else cargo runs it). */
function rust(args, input) {
  const bin = process.env.PASTEBIN_ENVELOPE_BIN
  const [cmd, argv] = bin ? [bin, args] : ['cargo', ['run', '--quiet', '--locked', '-p', 'pastebin-envelope', '--example', 'envelope', '--', ...args]]
  const r = spawnSync(cmd, argv, { cwd: ROOT, input: JSON.stringify(input), encoding: 'utf8', timeout: 600_000 })
  assert.ok(r.stdout, `the Rust envelope tool printed nothing (status ${r.status}): ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}
const rustSeal = (bundle, { password = null, burn = false } = {}) =>
  rust(['seal', ...(burn ? ['--burn'] : []), ...(password ? ['--password', password] : [])], bundle)
const rustOpen = (envelope, key, { password = null, burn = false } = {}) =>
  rust(['open', '--key', key, ...(burn ? ['--burn'] : []), ...(password ? ['--password', password] : [])], envelope)

/** Records what a page sends: every request's URL, Referer and body, and WebSocket frames. */
function recordRequests(page) {
  const sent = []
  page.on('request', (r) => sent.push({ url: r.url(), referer: r.headers().referer ?? '', body: r.postData() ?? '' }))
  page.on('websocket', (ws) => {
    sent.push({ url: ws.url(), referer: '', body: '' })
    ws.on('framesent', (f) => sent.push({ url: ws.url(), referer: '', body: String(f.payload) }))
  })
  return sent
}
function assertNeverSent(sent, secrets) {
  assert.ok(sent.length > 0, 'requests were recorded')
  for (const s of secrets) {
    for (const r of sent) {
      for (const [where, value] of Object.entries(r)) {
        assert.ok(!value.includes(s), `the secret ${s.slice(0, 8)}… was sent in a request's ${where}: ${r.url}`)
      }
    }
  }
}
const operationsOf = (sent) => sent.map((r) => (r.body.match(/"operationName":"(\w+)"/) || [])[1]).filter(Boolean)

const keyOf = (page) => parseFragment(new URL(page.url()).hash).key

async function createEncrypted(page, { password = null, burn = false, secondFile = null } = {}) {
  await page.goto('/')
  await page.locator('#paste-content').waitFor()
  await page.fill('#paste-title', TITLE)
  if (secondFile) {
    await page.fill('#paste-file-name-0', 'main.rs')
    await page.fill('#paste-content', TEXT)
    await page.locator('[data-testid="add-file"]').click()
    await page.fill('#paste-file-name-1', secondFile.name)
    await page.fill('#paste-content-1', secondFile.content)
  } else {
    await page.fill('#paste-content', TEXT)
    await page.selectOption('#paste-language', 'rust')
  }
  if (burn) await page.check('input[name="burn"]')
  await page.check('[data-testid="encrypt"]')
  if (password) await page.fill('[data-testid="password"]', password)
  await page.getByRole('button', { name: 'Create paste' }).click()
  await page.waitForURL(/\/p\/[^/#]+#k=/, { timeout: 30_000 })
  const url = new URL(page.url())
  return { id: url.pathname.split('/').pop(), key: keyOf(page), link: url.href }
}

/** The envelope as the server serves it (a read: counts a view; a burn paste is revealed). */
async function envelopeOf(id, { burn = false } = {}) {
  if (burn) return (await gql(`mutation($id: ID!) { revealPaste(id: $id) { ${ENVELOPE} } }`, { id })).revealPaste.encrypted
  return (await gql(`query($id: ID!) { paste(id: $id) { ${ENVELOPE} } }`, { id })).paste.encrypted
}

describe('encrypted pastes through the real server', () => {
  test('several files sealed in the browser, opened in a fresh browser and in Rust; the server holds only the envelope', async () => {
    const author = await newPage(browser)
    const sentByAuthor = recordRequests(author)
    const notes = { name: 'notes.md', content: '# Notes\n\nAlso **secret**.\n' }
    const { id, key, link } = await createEncrypted(author, { secondFile: notes })
    assert.match(key, /^[A-Za-z0-9_-]{43}$/)
    // The author sees the files (from memory) and the link to share, key included.
    await author.locator('[data-testid="paste-file"]').nth(1).waitFor()
    assert.equal(await author.locator('#share-url').inputValue(), link)
    await author.locator('[data-testid="encrypted-notice"]').waitFor()
    await author.locator('[data-testid="encrypted-badge"]').waitFor()
    await shoot(author, 'encrypted-created')

    // What the server has: an envelope, nothing readable beside it.
    const meta = (await gql('query($id: ID!) { paste(id: $id) { title language isEncrypted fileCount files { name } } }', { id })).paste
    assert.deepEqual(meta, { title: null, language: null, isEncrypted: true, fileCount: 1, files: null })
    const raw = await fetch(new URL(`/raw/${id}`, link))
    assert.equal(raw.headers.get('content-type'), 'application/vnd.pastebin.encrypted+json')
    const served = await raw.text()
    for (const secret of ['top secret', TITLE, 'notes.md', key]) assert.ok(!served.includes(secret), secret)

    // Rust opens what the browser sealed.
    const bundle = rustOpen(JSON.parse(served), key)
    assert.deepEqual(bundle, {
      title: TITLE,
      files: [
        { name: 'main.rs', language: 'rust', content: TEXT },
        { name: 'notes.md', language: 'markdown', content: notes.content },
      ],
    })

    // A fresh browser opens the link: both files, the title, line links keeping the key.
    const reader = await newPage(browser)
    const sentByReader = recordRequests(reader)
    await reader.goto(link)
    await reader.locator('[data-testid="paste-file"]').nth(1).waitFor()
    assert.equal(await reader.locator('[data-testid="paste-title"]').innerText(), TITLE)
    assert.match(await reader.locator('[data-file="main.rs"] .code-view code').innerText(), /top secret: héllo 🔐/)
    await reader.locator('[data-file="notes.md"] h1', { hasText: 'Notes' }).waitFor()
    assert.equal(await reader.title(), 'Encrypted paste · Pastebin')
    assert.equal(await reader.locator('[data-testid="raw-link"]').count(), 0, 'raw serves ciphertext: no Raw button')
    assert.equal(await reader.locator('[data-testid="zip-link"]').count(), 0, 'the server has no files to zip')
    await reader.locator('[data-file="main.rs"] a.ln[data-line="2"]').click()
    assert.equal(new URL(reader.url()).hash, `#k=${key}&f=main.rs&L2`)
    await shoot(reader, 'encrypted-opened')

    assertNeverSent([...sentByAuthor, ...sentByReader], [key])
    assert.deepEqual(problemsOf(author, reader), [])
    await author.context().close()
    await reader.context().close()
  })

  for (const { password, burn } of [
    { password: null, burn: false },
    { password: 'pw ✓ horse', burn: false },
    { password: null, burn: true },
    { password: 'pw ✓ horse', burn: true },
  ]) {
    const what = `${password ? 'with' : 'without'} a password${burn ? ', burn after reading' : ''}`

    test(`sealed in the browser, opened in Rust (${what})`, async () => {
      const author = await newPage(browser)
      const sent = recordRequests(author)
      const { id, key } = await createEncrypted(author, { password, burn })
      const envelope = await envelopeOf(id, { burn })
      assert.equal(envelope.kdf, password ? 'pbkdf2-sha256' : 'none')
      assert.deepEqual(rustOpen(envelope, key, { password, burn }), {
        title: TITLE,
        files: [{ name: 'paste.rs', language: 'rust', content: TEXT }],
      })
      if (password) assert.equal(rustOpen(envelope, key, { password: 'wrong', burn }).error, 'WRONG_KEY_OR_PASSWORD')
      // Its burn setting is bound to the ciphertext: served otherwise, the reader says so.
      assert.equal(rustOpen(envelope, key, { password, burn: !burn }).error, 'SETTINGS_CHANGED')
      if (burn) await assert.rejects(envelopeOf(id), /NOT_FOUND/)
      assertNeverSent(sent, [key, ...(password ? [password] : [])])
      assert.deepEqual(problemsOf(author), [])
      await author.context().close()
    })

    test(`sealed in Rust, opened in the browser (${what})`, async () => {
      const bundle = { title: `${TITLE} (Rust)`, files: [{ name: 'main.rs', language: 'rust', content: TEXT }] }
      const { envelope, key } = rustSeal(bundle, { password, burn })
      const created = await gql('mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id url } } }', {
        i: { encrypted: envelope, burnAfterReading: burn },
      })
      const { id, url } = created.createPaste.paste
      const reader = await newPage(browser)
      const sent = recordRequests(reader)
      await reader.goto(`${new URL(url).pathname}#k=${key}`)
      if (burn) {
        await reader.locator('[data-testid="reveal-step"]').waitFor()
        assert.ok(!operationsOf(sent).includes('RevealPasteEncrypted'), 'nothing is read before the reveal')
        await reader.getByRole('button', { name: 'Reveal and delete' }).click()
      }
      if (password) {
        await reader.locator('[data-testid="password-form"]').waitFor()
        await reader.fill('#paste-password', 'not it')
        await reader.getByRole('button', { name: 'Decrypt' }).click()
        await reader.locator('[data-testid="decrypt-state"]', { hasText: 'Wrong password' }).waitFor()
        await reader.fill('#paste-password', password)
        await reader.getByRole('button', { name: 'Decrypt' }).click()
      }
      await reader.locator('#L3').waitFor()
      assert.match(await reader.locator('.code-view code').innerText(), /top secret: héllo 🔐/)
      assert.equal(await reader.locator('[data-testid="paste-title"]').innerText(), bundle.title)
      if (burn) {
        await reader.locator('[data-testid="gone-notice"]').waitFor()
        await assert.rejects(envelopeOf(id), /NOT_FOUND/)
      }
      assertNeverSent(sent, [key, ...(password ? [password] : [])])
      assert.deepEqual(problemsOf(reader), [])
      await reader.context().close()
    })
  }

  test('an edit is sealed again in the browser, under the same link', async () => {
    const author = await newPage(browser)
    const sent = recordRequests(author)
    const password = 'edit pw'
    const { id, key, link } = await createEncrypted(author, { password })
    await author.locator('[data-testid="edit-link"]').click()
    await author.waitForURL(/\/edit#k=/)
    await author.locator('[data-testid="password-form"]').waitFor()
    await author.fill('#paste-password', password)
    await author.getByRole('button', { name: 'Decrypt' }).click()
    await author.locator('[data-testid="encrypted-edit"]').waitFor()
    await author.waitForFunction(() => document.querySelector('#paste-content')?.value.includes('top secret'))
    assert.equal(await author.inputValue('#paste-content'), TEXT)
    await author.fill('#paste-content', 'fn main() { /* revision two, still secret */ }\n')
    await author.getByRole('button', { name: 'Save revision' }).click()
    await author.locator('[data-testid="edited-notice"]').waitFor()
    assert.equal(new URL(author.url()).hash, `#k=${key}`)
    await author.locator('.code-view code', { hasText: 'revision two' }).waitFor()

    const envelope = await envelopeOf(id)
    assert.deepEqual(rustOpen(envelope, key, { password }).files[0].content, 'fn main() { /* revision two, still secret */ }\n')
    const reader = await newPage(browser)
    await reader.goto(link)
    await reader.fill('#paste-password', password)
    await reader.getByRole('button', { name: 'Decrypt' }).click()
    await reader.locator('.code-view code', { hasText: 'revision two' }).waitFor()
    assert.match(await reader.locator('[data-testid="revision"]').innerText(), /revision 2 of 2/)
    assertNeverSent(sent, [key, password])
    assert.deepEqual(problemsOf(author, reader), [])
    await author.context().close()
    await reader.context().close()
  })

  test('a damaged key, a key of another paste and a missing key each say so; a missing key reads nothing', async () => {
    const author = await newPage(browser)
    const { id, key } = await createEncrypted(author)
    const base = new URL(author.url())
    base.hash = ''

    const reader = await newPage(browser)
    await reader.goto(`${base.href}#k=${key.slice(0, 30)}`)
    await reader.locator('[data-testid="decrypt-error"]', { hasText: 'This link is damaged' }).waitFor()

    const other = key.startsWith('A') ? 'B' + key.slice(1) : 'A' + key.slice(1)
    await reader.goto(`${base.href}#k=${other}&L2`)
    await reader.reload() // a new key is a new link: the page reads it on load
    await reader.locator('[data-testid="decrypt-error"]', { hasText: 'key does not open' }).waitFor()

    const fresh = await newPage(browser)
    const sent = recordRequests(fresh)
    await fresh.goto(base.href)
    await fresh.locator('[data-testid="decrypt-error"]', { hasText: 'missing its key' }).waitFor()
    assert.ok(!operationsOf(sent).includes('PasteEncrypted'), 'without a key the envelope is not even read')
    assert.ok((await gql('query($id: ID!) { paste(id: $id) { id } }', { id })).paste)
    assert.deepEqual(problemsOf(author, reader, fresh), [])
    for (const p of [author, reader, fresh]) await p.context().close()
  })
})

describe('guarded pastes are read only when the reader asks', () => {
  test('a max-views paste shows a reveal step, and its content is asked for only after it', async () => {
    const author = await newPage(browser)
    await author.goto('/')
    await author.locator('#paste-content').waitFor()
    await author.fill('#paste-content', 'counted secret\n')
    await author.fill('#paste-max-views', '2')
    await author.getByRole('button', { name: 'Create paste' }).click()
    await author.waitForURL(/\/p\/[^/]+$/)
    const id = new URL(author.url()).pathname.split('/').pop()

    const reader = await newPage(browser)
    const sent = recordRequests(reader)
    await reader.goto(`/p/${id}`)
    await reader.locator('[data-testid="reveal-step"]').waitFor()
    assert.match(await reader.locator('[data-testid="reveal-step"]').innerText(), /read 2 more times/)
    assert.ok(!operationsOf(sent).includes('PasteContent'), `no content before the reveal: ${operationsOf(sent)}`)
    const left = async () => (await gql('query($id: ID!) { paste(id: $id) { remainingViews } }', { id })).paste.remainingViews
    assert.equal(await left(), 2, 'opening the page spent nothing')
    await reader.locator('[data-testid="reveal-button"]').click()
    await reader.locator('.code-view code', { hasText: 'counted secret' }).waitFor()
    assert.equal(await left(), 1)
    assert.deepEqual(problemsOf(author, reader), [])
    await author.context().close()
    await reader.context().close()
  })
})
