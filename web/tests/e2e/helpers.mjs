// Shared helpers of the end-to-end tests: Debian's Chromium through playwright-core,
// GraphQL over fetch, screenshots in light and dark at 375 and 1440 px.
import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
export const BASE = (process.env.PASTEBIN_E2E_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')
export const SHOTS = process.env.PASTEBIN_SCREENSHOTS_DIR || resolve(here, '../../../.artifacts/screenshots')
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  })
}

/**
 * A page in a fresh context (own localStorage). Collects page errors and CSP violations
 * in `page.problems`, checked by expectNoProblems().
 */
export async function newPage(browser, { colorScheme = 'light', width = 1440, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme, baseURL: BASE })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  page.problems = []
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    const t = m.text()
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(t)) page.problems.push(`CSP: ${t}`)
    else if (m.type() === 'error' && !/Failed to load resource|status of 4\d\d/.test(t)) page.problems.push(`console error: ${t}`)
  })
  return page
}

export function problemsOf(...pages) {
  return pages.flatMap((p) => p.problems)
}

/** Full-page screenshots of the current page: light and dark, 375 and 1440 px wide. */
export async function shoot(page, name) {
  mkdirSync(SHOTS, { recursive: true })
  const original = page.viewportSize()
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme })
    for (const width of [375, 1440]) {
      await page.setViewportSize({ width, height: width < 600 ? 800 : 900 })
      await page.waitForTimeout(120)
      await page.screenshot({ path: join(SHOTS, `${name}-${colorScheme}-${width}.png`), fullPage: true })
    }
  }
  await page.emulateMedia({ colorScheme: 'light' })
  await page.setViewportSize(original)
}

/** A GraphQL request to the server (outside the browser). */
export async function gql(query, variables = {}, token = null) {
  const res = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  })
  const body = await res.json()
  if (body.errors?.length) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`)
  return body.data
}

/** Polls fn until it returns a truthy value (or throws after timeoutMs). */
export async function eventually(fn, { timeoutMs = 10_000, intervalMs = 200, message = 'condition' } = {}) {
  const until = Date.now() + timeoutMs
  let last
  for (;;) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${message} (last: ${last})`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** A username unique to this run: lowercase letters and digits, 15 characters. */
export function uniqueUsername(prefix = 'e2e') {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.slice(0, 20)
}

/** Fills the new-paste form and submits; returns the paste id from the URL. */
export async function createPasteThroughUi(page, { content, title, language, visibility, burn, maxViews } = {}) {
  await page.goto('/')
  await page.locator('#paste-content').waitFor()
  if (title != null) await page.fill('#paste-title', title)
  await page.fill('#paste-content', content)
  if (language) await page.selectOption('#paste-language', language)
  if (visibility) await page.check(`input[name="visibility"][value="${visibility}"]`)
  if (burn) await page.check('input[name="burn"]')
  if (maxViews != null) await page.fill('#paste-max-views', String(maxViews))
  await page.getByRole('button', { name: 'Create paste' }).click()
  await page.waitForURL(/\/p\/[^/]+$/, { timeout: 15_000 })
  return new URL(page.url()).pathname.split('/').pop()
}

export async function viewsOf(page) {
  const text = await page.locator('[data-testid="views"]').innerText()
  return Number.parseInt(text, 10)
}
