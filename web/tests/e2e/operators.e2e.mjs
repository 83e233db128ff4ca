// People who script it, sign in with their company account, or run it for others (issue 15):
// access tokens on the settings page, sign-in with a real OpenID provider (npm oidc-provider,
// started by scripts/e2e), and moderation on /admin. Needs the server configured as
// scripts/e2e does: PASTEBIN_OIDC_* pointing at that provider, PASTEBIN_ADMIN_USERNAMES=e2eadmin,
// PASTEBIN_ADMIN_CLAIM=groups=pastebin-admins, PASTEBIN_TOKEN_LAST_USED_FLUSH_SECS=1.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, eventually, gql, launch, newPage, problemsOf, shoot, uniqueUsername } from './helpers.mjs'

const PASSWORD = 'correct horse battery'
let browser
const pages = []
const open = async (opts) => {
  const p = await newPage(browser, opts)
  pages.push(p)
  return p
}

before(async () => {
  browser = await launch()
})

after(async () => {
  await browser?.close()
})

/** A raw GraphQL answer (errors included) with a bearer token. */
async function gqlRaw(query, variables, token) {
  const res = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  })
  return res.json()
}

async function signUp(page, username) {
  await page.goto('/register')
  await page.fill('#auth-username', username)
  await page.fill('#auth-password', PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.locator('[data-testid="signed-in-as"]').waitFor()
}

async function signInWithPassword(page, username) {
  await page.goto('/login')
  await page.fill('#auth-username', username)
  await page.fill('#auth-password', PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.locator('[data-testid="signed-in-as"]').waitFor()
}

test('access tokens: made on the settings page, shown once, used by a script, revoked everywhere', async () => {
  const page = await open()
  const username = uniqueUsername('tok')
  await signUp(page, username)
  await page.getByRole('link', { name: 'Tokens' }).click()
  await page.waitForURL(/\/settings\/tokens$/)
  await page.fill('#token-name', 'ci script')
  // Read and write are ticked by default; add delete.
  await page.check('input[name="scope"][value="DELETE"]')
  await page.getByRole('button', { name: 'Create token' }).click()
  const secret = (await page.locator('[data-testid="token-secret"]').innerText()).trim()
  assert.match(secret, /^pbt_[0-9A-Za-z]{38}$/)
  const row = page.locator('tr[data-token="ci script"]')
  assert.match(await row.innerText(), /read, write, delete/)
  assert.match(await row.innerText(), /never/)
  await shoot(page, 'tokens')

  // A script uses it: it is the user.
  const me = await gqlRaw('{ me { username } }', {}, secret)
  assert.equal(me.data.me.username, username)
  // "Last used" shows up (written in batches; the e2e server flushes every second).
  await eventually(
    async () => {
      await page.reload()
      const cells = await page.locator('tr[data-token="ci script"] td').allInnerTexts()
      return cells[3] && !/never/.test(cells[3])
    },
    { timeoutMs: 15_000, message: 'last used on the settings page' },
  )
  // The secret is not shown again.
  assert.equal(await page.locator('[data-testid="token-secret"]').count(), 0)

  // Revoked: refused at once.
  await page.getByRole('button', { name: 'Revoke ci script' }).click()
  await page.getByRole('button', { name: 'Confirm: revoke ci script' }).click()
  await page.locator('tr[data-token="ci script"]').waitFor({ state: 'detached' })
  await eventually(async () => (await gqlRaw('{ me { username } }', {}, secret)).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED', {
    timeoutMs: 3_000,
    message: 'the revoked token to be refused',
  })
  assert.deepEqual(problemsOf(page), [])
})

test('moderation: a visitor reports, the admin hides the paste everywhere and the log says who and why', async () => {
  const created = await gql(
    'mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }',
    { i: { content: 'cheap watches, click here', title: 'spam for the e2e test', visibility: 'PUBLIC' } },
  )
  const id = created.createPaste.paste.id

  // A visitor reports it from the paste page.
  const visitor = await open()
  await visitor.goto(`/p/${id}`)
  await visitor.getByText('Report this paste…').click()
  await visitor.fill('#report-reason', 'spam links')
  await visitor.getByRole('button', { name: 'Send report' }).click()
  assert.match(await visitor.locator('[data-testid="report-status"]').innerText(), /Reported/)

  // A member cannot open the admin page's data.
  const member = await open()
  await signUp(member, uniqueUsername('member'))
  assert.equal(await member.locator('[data-testid="admin-link"]').count(), 0)
  await member.goto('/admin')
  assert.match(await member.locator('[data-testid="admin-load-error"]').innerText(), /not allowed|admin|permission|forbidden/i)

  // The admin (by username, from the configuration) sees the report and hides the paste.
  const admin = await open()
  const adminExists = await gqlRaw('mutation { login(username: "e2eadmin", password: "correct horse battery") { token } }', {})
  if (adminExists.errors) await signUp(admin, 'e2eadmin')
  else await signInWithPassword(admin, 'e2eadmin')
  await admin.locator('[data-testid="admin-link"]').click()
  await admin.waitForURL(/\/admin$/)
  const report = admin.locator(`li.report[data-paste="${id}"]`)
  await report.waitFor()
  assert.match(await report.innerText(), /spam links/)
  await shoot(admin, 'admin')
  await report.getByLabel('Reason for your action').fill('advertising spam')
  await report.getByRole('button', { name: 'Hide paste' }).click()
  assert.match(await admin.locator('[data-testid="admin-notice"]').innerText(), /hidden/)
  await admin.locator(`li.report[data-paste="${id}"]`).waitFor({ state: 'detached' })
  const log = admin.locator('[data-testid="audit-log"] tbody tr').first()
  const cells = await log.locator('td').allInnerTexts()
  assert.deepEqual(cells.slice(1), ['e2eadmin', 'hide', id, 'advertising spam'])

  // Gone for everyone else, on every door.
  await visitor.goto(`/p/${id}`)
  await visitor.getByText(/not found|doesn.t exist|no longer/i).first().waitFor()
  assert.equal((await fetch(`${BASE}/raw/${id}`)).status, 404)
  assert.equal((await fetch(`${BASE}/api/v1/paste?shortlink=${id}`)).status, 404)
  const recent = await gql('{ recentPastes(first: 100) { nodes { id } } }')
  assert.ok(!recent.recentPastes.nodes.some((n) => n.id === id))
  assert.deepEqual(problemsOf(visitor, admin), [])
})

test('sign-in with the identity provider: first sign-in makes the account, its admin claim counts, sign-out, the fragment is kept', async () => {
  const idp = await gql('{ identityProvider { name startUrl } }')
  assert.ok(idp.identityProvider, 'the e2e server is configured with the test provider')
  const created = await gql('mutation { createPaste(input: { content: "one\\ntwo\\nthree" }) { paste { id } } }')
  const id = created.createPaste.paste.id

  const page = await open()
  const requested = []
  page.on('request', (r) => requested.push(r.url()))
  // The sign-in page as a paste page sends there (return path in ?next=, lines in the
  // fragment), then the provider.
  await page.goto(`/login?next=/p/${id}#L2`)
  await page.getByRole('button', { name: `Sign in with ${idp.identityProvider.name}` }).click()
  // The provider's own login and consent pages.
  await page.locator('input[name="login"]').waitFor()
  assert.ok(!page.url().startsWith(BASE), `at the provider: ${page.url()}`)
  const login = `admin${Date.now().toString(36)}`
  await page.fill('input[name="login"]', login)
  await page.fill('input[name="password"]', 'anything')
  await page.locator('button[type="submit"]').click()
  await page.locator('button[type="submit"]', { hasText: 'Continue' }).click()
  // Back on the paste, signed in as the new account, with the fragment as it was.
  await page.waitForURL(new RegExp(`/p/${id}#L2$`), { timeout: 15_000 })
  assert.equal(await page.locator('[data-testid="signed-in-as"]').innerText(), login)
  // The provider says this user is in pastebin-admins: the admin page is offered.
  await page.locator('[data-testid="admin-link"]').waitFor()
  // The token arrived through the hand-over, not a URL; no URL ever carried the fragment
  // (escaped, as it would be in a query; the provider's random ids may well contain "L2").
  assert.ok(!requested.some((u) => /%23L2|token=|eyJ/.test(u.split('#')[0])), requested.join('\n'))
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('pastebin.auth')).token)
  const me = await gql('{ me { id username isAdmin } }', {}, token)
  assert.equal(me.me.username, login)
  assert.equal(me.me.isAdmin, true)

  // Sign out, and in again: the same account (linked to the issuer and subject).
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.locator('.site-header').getByRole('link', { name: 'Sign in' }).waitFor()
  await page.goto('/login')
  await page.getByRole('button', { name: `Sign in with ${idp.identityProvider.name}` }).click()
  // The provider remembers its session: straight back (or through its pages again).
  const again = await Promise.race([
    page.waitForURL(/\/me$/, { timeout: 15_000 }).then(() => 'back'),
    page.locator('input[name="login"], button[type="submit"]').first().waitFor({ timeout: 15_000 }).then(() => 'provider'),
  ])
  if (again === 'provider') {
    if (await page.locator('input[name="login"]').count()) {
      await page.fill('input[name="login"]', login)
      await page.fill('input[name="password"]', 'anything')
      await page.locator('button[type="submit"]').click()
    }
    if (await page.locator('button[type="submit"]', { hasText: 'Continue' }).count()) {
      await page.locator('button[type="submit"]', { hasText: 'Continue' }).click()
    }
    await page.waitForURL(/\/me$/, { timeout: 15_000 })
  }
  assert.equal(await page.locator('[data-testid="signed-in-as"]').innerText(), login)
  const token2 = await page.evaluate(() => JSON.parse(localStorage.getItem('pastebin.auth')).token)
  const me2 = await gql('{ me { id } }', {}, token2)
  assert.equal(me2.me.id, me.me.id)
  await shoot(page, 'signed-in-with-provider')

  // A failed hand-over (nothing to hand over) says so instead of hanging.
  const stray = await open()
  await stray.goto('/signin/oidc?error=UNAUTHENTICATED')
  assert.match(await stray.locator('[data-testid="sso-error"]').innerText(), /cancelled|expired/)
  assert.deepEqual(problemsOf(page, stray), [])
})
