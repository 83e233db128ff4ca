// End-to-end tests of the web app against a running server (PASTEBIN_E2E_URL,
// default http://127.0.0.1:8080), in Debian's Chromium through playwright-core.
// Run from web/: `npm run e2e`. Screenshots go to <repo>/.artifacts/screenshots/.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import {
  BASE,
  SHOTS,
  createPasteThroughUi,
  eventually,
  gql,
  launch,
  newPage,
  problemsOf,
  shoot,
  uniqueUsername,
  viewsOf,
} from './helpers.mjs'

const RUST = [
  'use std::collections::HashMap;',
  '',
  '/// Counts words — héllo wörld 😀',
  'fn main() {',
  '\tlet mut counts: HashMap<&str, u32> = HashMap::new();',
  '    for w in "a b a".split_whitespace() {',
  '        *counts.entry(w).or_insert(0) += 1;',
  '    }',
  '    println!("{:?} <b>&amp;</b>", counts);',
  '}',
  '',
].join('\n')

let browser
const pages = []
const open = async (opts) => {
  const p = await newPage(browser, opts)
  pages.push(p)
  return p
}
const shared = {} // state handed from one scenario to the next

before(async () => {
  const res = await fetch(`${BASE}/`).catch((e) => {
    throw new Error(`no server at ${BASE} (set PASTEBIN_E2E_URL): ${e.message}`)
  })
  assert.equal(res.status, 200, `GET ${BASE}/`)
  browser = await launch()
  console.log(`# e2e against ${BASE}; screenshots in ${SHOTS}`)
})

after(async () => {
  await browser?.close()
})

test('the app is served, with history-mode fallback', async () => {
  for (const path of ['/', '/recent', '/p/some-id', '/no/such/page']) {
    const res = await fetch(`${BASE}${path}`)
    assert.equal(res.status, 200, path)
    assert.match(await res.text(), /<div id="app"><\/div>/, `${path} serves index.html`)
  }
  const page = await open()
  await page.goto('/no/such/page')
  await page.getByText('Page not found').waitFor()
  await shoot(page, 'page-not-found')
  assert.deepEqual(problemsOf(page), [])
})

test('create a paste: the page shows it highlighted', async () => {
  const page = await open()
  await page.goto('/')
  await page.locator('#paste-content').waitFor()
  await shoot(page, 'new-paste-empty')
  await page.fill('#paste-title', 'Word count')
  await page.fill('#paste-content', RUST)
  await page.selectOption('#paste-language', 'rust')
  await page.selectOption('#paste-expiry', '1d')
  await shoot(page, 'new-paste-filled')
  await page.getByRole('button', { name: 'Create paste' }).click()
  await page.waitForURL(/\/p\/[^/]+$/)
  const id = new URL(page.url()).pathname.split('/').pop()

  await page.locator('.code-view[data-highlighted="true"]').waitFor()
  assert.ok((await page.locator('.code-view .hljs-keyword').count()) > 3, 'keywords are highlighted')
  assert.equal(await page.locator('.code-view .line').count(), RUST.split('\n').length - 1, 'one numbered line per line')
  assert.ok(await page.locator('[data-testid="delete-token"]').isVisible(), 'anonymous paste shows its delete token once')
  await page.getByRole('heading', { name: 'Word count' }).waitFor()
  shared.page = page
  shared.id = id
  shared.token = await page.locator('[data-testid="delete-token"]').innerText()
  await shoot(page, 'paste-created')
  assert.deepEqual(problemsOf(page), [])
})

test('the raw link serves the exact text', async () => {
  const href = await shared.page.locator('[data-testid="raw-link"]').getAttribute('href')
  const res = await fetch(new URL(href, BASE))
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') || '', /^text\/plain/)
  assert.equal(await res.text(), RUST)
})

test('a second page opening the paste raises the first page’s view count live', async () => {
  const first = shared.page
  await first.evaluate(() => (window.__noReload = true))
  await first.locator('.views-live .live-dot:not(.off)').waitFor({ timeout: 10_000 })
  const before = await viewsOf(first)

  const second = await open({ colorScheme: 'dark' })
  await second.goto(`/p/${shared.id}`)
  await second.locator('.code-view[data-highlighted="true"]').waitFor()
  // What a user gets by selecting the whole code and copying it.
  const selected = await second.locator('.code-view code').evaluate((el) => {
    getSelection().selectAllChildren(el)
    return getSelection().toString()
  })
  assert.equal(selected.replace(/\n+$/, ''), RUST.replace(/\n+$/, ''), 'the second page shows the server’s text, line numbers not copied')
  await second.evaluate(() => getSelection().removeAllRanges())
  assert.ok(!(await second.locator('[data-testid="delete-token"]').count()), 'the delete token is not shown again')

  const after = await eventually(async () => ((await viewsOf(first)) > before ? viewsOf(first) : 0), {
    message: 'the view count to go up without reload',
  })
  assert.ok(after > before)
  assert.equal(await first.evaluate(() => window.__noReload), true, 'the first page was not reloaded')
  await shoot(second, 'paste-view')
  assert.deepEqual(problemsOf(first, second), [])
})

test('sign up, create a private paste, sign out: it is not found', async () => {
  const page = await open()
  const username = uniqueUsername()
  const password = 'e2e-Password-123'
  await page.goto('/register')
  await page.locator('#auth-username').waitFor()
  await shoot(page, 'sign-up')
  await page.fill('#auth-username', username)
  await page.fill('#auth-password', password)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.locator('[data-testid="signed-in-as"]').filter({ hasText: username }).waitFor()

  const id = await createPasteThroughUi(page, {
    title: 'Private notes',
    content: 'only for me\n',
    visibility: 'PRIVATE',
    language: 'plaintext',
  })
  await page.locator('.badges').getByText('Private').waitFor()
  assert.equal(await page.locator('[data-testid="delete-token"]').count(), 0, 'no delete token for signed-in pastes')
  await page.getByRole('button', { name: 'Delete paste' }).waitFor() // viewerIsOwner

  await page.goto('/me')
  await page.locator(`[data-paste-id="${id}"]`).waitFor()
  await shoot(page, 'my-pastes')

  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByRole('link', { name: 'Sign in' }).first().waitFor()
  await page.goto(`/p/${id}`)
  await page.locator('[data-testid="paste-error"][data-kind="not-found"]').waitFor()
  await shoot(page, 'paste-not-found')

  // and signing in again shows it
  await page.goto(`/login?next=/p/${id}`)
  await page.locator('#auth-username').waitFor()
  await shoot(page, 'sign-in')
  await page.fill('#auth-username', username)
  await page.fill('#auth-password', password)
  await page.getByRole('button', { name: 'Sign in' }).last().click()
  await page.waitForURL(new RegExp(`/p/${id}$`))
  await page.locator('.code-view').getByText('only for me').waitFor()
  assert.deepEqual(problemsOf(page), [])
})

test('burn after reading: a reveal step, then the paste is gone', async () => {
  const author = await open()
  const secret = 'the password is swordfish\n'
  const id = await createPasteThroughUi(author, { title: 'Secret', content: secret, burn: true, language: 'plaintext' })
  await author.locator('[data-testid="created-notice"]').waitFor()
  assert.equal(await author.locator('[data-testid="raw-link"]').count(), 0, 'no raw link on a burn-after-reading paste')

  const reader = await open()
  await reader.goto(`/p/${id}`)
  await reader.locator('[data-testid="reveal-step"]').waitFor()
  assert.equal(await reader.locator('.code-view').count(), 0, 'nothing is shown before the reveal')
  await shoot(reader, 'burn-reveal-step')
  await reader.getByRole('button', { name: /Reveal/ }).click()
  await reader.locator('.code-view').getByText('swordfish').waitFor()
  await reader.locator('[data-testid="gone-notice"][data-kind="burned"]').waitFor()
  await shoot(reader, 'burn-revealed')

  await reader.reload()
  await reader.locator('[data-testid="paste-error"][data-kind="not-found"]').waitFor()
  // The author's page hears that the paste is gone (the views stream ends).
  await author.locator('[data-testid="gone-notice"]').waitFor({ timeout: 10_000 })
  assert.deepEqual(problemsOf(author, reader), [])
})

test('an oversize paste shows the limit error', async () => {
  const { limits } = await gql('{ limits { maxBytes } }')
  const page = await open()
  await page.goto('/')
  await page.locator('#paste-content').waitFor()
  const line = 'x'.repeat(99) + '\n'
  const big = line.repeat(Math.floor(limits.maxBytes / line.length) + 1) + 'é' // > maxBytes bytes
  await page.locator('#paste-content').evaluate((ta, value) => {
    ta.value = value
    ta.dispatchEvent(new Event('input', { bubbles: true }))
  }, big)
  await page.locator('[data-testid="size"].over').waitFor()
  await page.getByRole('button', { name: 'Create paste' }).click()
  const error = page.locator('[data-testid="create-error"]')
  await error.waitFor()
  assert.match(await error.innerText(), /Too large[\s\S]*limit/i)
  assert.equal(new URL(page.url()).pathname, '/', 'stays on the editor')
  await page.locator('#paste-content').evaluate((ta) => ta.scrollTo(0, 0))
  await shoot(page, 'new-paste-too-large')
  assert.deepEqual(problemsOf(page), [])
})

test('recent pastes lists a new public paste', async () => {
  const title = `Public ${Date.now()}`
  await gql('mutation($input: CreatePasteInput!) { createPaste(input: $input) { paste { id } } }', {
    input: { content: 'SELECT 1;\n', title, language: 'sql', visibility: 'PUBLIC', expiresIn: 3600 },
  })
  const page = await open()
  await page.goto('/recent')
  await page.getByRole('link', { name: title }).waitFor()
  await shoot(page, 'recent')
  assert.deepEqual(problemsOf(page), [])
})
