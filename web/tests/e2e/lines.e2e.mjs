// Links to lines (DESIGN §13 fragment grammar): click, Shift+click, keyboard, opening a link,
// and the fragment never moving into a path or query string.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { eventually, gql, launch, newPage, problemsOf, shoot, uniqueUsername } from './helpers.mjs'

let browser
const pages = []
const open = async (opts) => {
  const p = await newPage(browser, opts)
  pages.push(p)
  return p
}

const TEXT = Array.from({ length: 120 }, (_, i) => `line ${i + 1}: ${'x'.repeat(i % 30)}`).join('\n') + '\n'
let id

before(async () => {
  browser = await launch()
  const data = await gql(
    'mutation($input: CreatePasteInput!) { createPaste(input: $input) { paste { id } } }',
    { input: { content: TEXT, title: 'Line links', language: 'plaintext', visibility: 'UNLISTED' } },
  )
  id = data.createPaste.paste.id
})

after(async () => {
  await browser?.close()
})

const hashOf = (page) => new URL(page.url()).hash
const selected = (page) => page.locator('.code-view .line.selected').evaluateAll((ls) => ls.map((l) => l.id))

test('every line has an anchor; a click selects it, Shift+click a range, a second click clears', async () => {
  const page = await open()
  await page.goto(`/p/${id}`)
  await page.locator('#L120').waitFor()
  assert.equal(await page.locator('.code-view .line').count(), 120)

  await page.locator('a.ln[data-line="10"]').click()
  assert.equal(hashOf(page), '#L10')
  assert.deepEqual(await selected(page), ['L10'])

  await page.locator('a.ln[data-line="14"]').click({ modifiers: ['Shift'] })
  assert.equal(hashOf(page), '#L10-L14')
  assert.deepEqual(await selected(page), ['L10', 'L11', 'L12', 'L13', 'L14'])

  // Shift+click above the anchor: the range grows from line 10 the other way.
  await page.locator('a.ln[data-line="7"]').click({ modifiers: ['Shift'] })
  assert.equal(hashOf(page), '#L7-L10')

  await page.locator('a.ln[data-line="3"]').click()
  assert.equal(hashOf(page), '#L3')
  await page.locator('a.ln[data-line="3"]').click()
  assert.equal(hashOf(page), '')
  assert.deepEqual(await selected(page), [])
  // The line numbers are not part of the text.
  const text = await page.locator('.code-view code').innerText()
  assert.ok(text.startsWith('line 1:'), text.slice(0, 40))
  assert.deepEqual(problemsOf(page), [])
})

test('the keyboard selects lines: one tab stop, arrows move, Enter/Space select, Shift extends', async () => {
  const page = await open()
  await page.goto(`/p/${id}`)
  await page.locator('#L1').waitFor()
  const tabStops = await page.locator('a.ln[tabindex="0"]').count()
  assert.equal(tabStops, 1, 'the line numbers are one tab stop')
  await page.locator('a.ln[data-line="1"]').focus()
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('ArrowDown')
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.line), '3')
  await page.keyboard.press('Enter')
  assert.equal(hashOf(page), '#L3')
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Shift+Space')
  assert.equal(hashOf(page), '#L3-L4')
  await page.keyboard.press('Shift+ArrowDown')
  assert.equal(hashOf(page), '#L3-L5')
  await page.keyboard.press('Space')
  assert.equal(hashOf(page), '#L5', 'Space alone selects the focused line')
  assert.equal(await page.evaluate(() => window.scrollY > 0 || document.activeElement?.dataset.line === '5'), true)
  assert.deepEqual(problemsOf(page), [])
})

test('opening a link scrolls to the range and highlights it; the key part is kept', async () => {
  const page = await open({ width: 1000, height: 600 })
  await page.goto(`/p/${id}#k=SECRET-key_1&L90-L95`)
  await page.locator('#L90.selected').waitFor()
  assert.deepEqual(await selected(page), ['L90', 'L91', 'L92', 'L93', 'L94', 'L95'])
  await eventually(() => page.locator('#L90').evaluate((el) => {
    const r = el.getBoundingClientRect()
    return r.top >= 0 && r.bottom <= window.innerHeight
  }), { message: 'line 90 scrolled into view' })
  // The router left the fragment alone.
  assert.equal(hashOf(page), '#k=SECRET-key_1&L90-L95')
  assert.equal(new URL(page.url()).search, '')
  await shoot(page, 'paste-lines-selected')

  // Changing the lines keeps k=.
  await page.locator('a.ln[data-line="92"]').click()
  assert.equal(hashOf(page), '#k=SECRET-key_1&L92')
  // Line links carry the key too (open in a new tab, copy link).
  assert.equal(await page.locator('a.ln[data-line="7"]').getAttribute('href'), '#k=SECRET-key_1&L7')
  // Editing the fragment in the address bar moves the selection.
  await page.evaluate(() => { window.location.hash = '#k=SECRET-key_1&L20-L21' })
  await page.locator('#L20.selected').waitFor()
  assert.deepEqual(await selected(page), ['L20', 'L21'])
  assert.deepEqual(problemsOf(page), [])
})

test('a malformed fragment is ignored, and lines past the end are clamped', async () => {
  const page = await open()
  await page.goto(`/p/${id}#L0-Lx&%E0%A4%A&k=`)
  await page.locator('#L1').waitFor()
  assert.deepEqual(await selected(page), [])
  await page.goto(`/p/${id}#L118-L500`)
  await page.locator('#L118.selected').waitFor()
  assert.deepEqual(await selected(page), ['L118', 'L119', 'L120'])
  // The router's first navigation does not re-encode the fragment (%26 would become &).
  await page.goto(`/p/${id}#f=a%26b.md&L5`)
  await page.locator('#L5.selected').waitFor()
  assert.equal(hashOf(page), '#f=a%26b.md&L5')
  await page.locator('a.ln[data-line="6"]').click()
  assert.equal(hashOf(page), '#f=a%26b.md&L6')
  assert.deepEqual(problemsOf(page), [])
})

test('signing in keeps the fragment a fragment (never in the query string), byte for byte', async () => {
  const username = uniqueUsername('lines')
  const password = 'correct horse battery'
  // A private paste: signed out, the page offers to sign in.
  const reg = await gql('mutation($u: String!, $p: String!) { register(username: $u, password: $p) { token } }', { u: username, p: password })
  const data = await gql(
    'mutation($input: CreatePasteInput!) { createPaste(input: $input) { paste { id } } }',
    { input: { content: TEXT, visibility: 'PRIVATE' } },
    reg.register.token,
  )
  const privateId = data.createPaste.paste.id
  // An escaped `&` in a file name: vue-router alone would decode it and split the part in two.
  const FRAGMENT = '#k=SECRET&f=notes%20%26%20todo.md&L4-L6'
  const page = await open()
  const seen = []
  page.on('request', (r) => seen.push(r.url()))
  await page.goto(`/p/${privateId}${FRAGMENT}`)
  // (The fragment is written back right after the router's navigation: wait for both.)
  const withFragment = (path) => (u) => u.pathname === path && u.hash === FRAGMENT
  await page.locator('[data-testid="paste-error"]').getByRole('link', { name: 'Sign in' }).click()
  await page.waitForURL(withFragment('/login'))
  const login = new URL(page.url())
  assert.equal(login.hash, FRAGMENT)
  assert.equal(login.searchParams.get('next'), `/p/${privateId}`)
  assert.ok(!login.search.includes('SECRET'), login.search)
  // Switching to sign-up and back keeps it too.
  await page.locator('.auth-wrap').getByRole('link', { name: 'Create an account' }).click()
  await page.waitForURL(withFragment('/register'))
  assert.equal(new URL(page.url()).searchParams.get('next'), `/p/${privateId}`)
  await page.locator('.auth-wrap').getByRole('link', { name: 'Sign in' }).click()
  await page.waitForURL(withFragment('/login'))
  await page.fill('#auth-username', username)
  await page.fill('#auth-password', password)
  await page.locator('form[aria-label="Sign in"] button[type="submit"]').click()
  await page.waitForURL((u) => u.pathname === `/p/${privateId}`)
  await page.locator('#L4.selected').waitFor()
  assert.equal(hashOf(page), FRAGMENT)
  assert.ok(!seen.some((u) => u.includes('SECRET')), 'the key never went to the server')
  assert.deepEqual(problemsOf(page), [])
})
