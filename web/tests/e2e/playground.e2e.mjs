// The GraphQL playground on GET /graphql: bundled, from this origin only (every other origin
// is blocked), under its own strict CSP; a query and a subscription run; a signed-in
// visitor's token is used.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, eventually, gql, launch, newPage, problemsOf, shoot, uniqueUsername } from './helpers.mjs'

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  await browser?.close()
})

/** A page whose requests to any other origin fail (and are recorded). */
async function offlinePage() {
  const page = await newPage(browser)
  page.elsewhere = []
  const origin = new URL(BASE).origin
  await page.context().route(
    (url) => url.origin !== origin,
    (route) => {
      page.elsewhere.push(route.request().url())
      return route.abort('internetdisconnected')
    },
  )
  return page
}

/**
 * Replaces the operation in GraphiQL's editor (CodeMirror 5) and runs it. `query` is a named
 * operation: GraphiQL shows the name on the tab once it has taken the edit in.
 */
async function run(page, query) {
  const name = /^\s*(?:query|mutation|subscription)\s+(\w+)/.exec(query)[1]
  await page.locator('.graphiql-query-editor .CodeMirror').first().waitFor()
  await page.evaluate((q) => {
    const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
    cm.setValue(q)
  }, query)
  await page.locator('.graphiql-tab-button', { hasText: name }).waitFor()
  await page.locator('button.graphiql-execute-button').click()
}

const resultText = (page) =>
  page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() ?? '')

test('GET /graphql serves the bundled playground with its own CSP', async () => {
  const res = await fetch(`${BASE}/graphql`, { headers: { accept: 'text/html' } })
  assert.equal(res.status, 200)
  const csp = res.headers.get('content-security-policy')
  assert.match(csp, /script-src 'self';/)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https:|unpkg|cdn/i)
  const html = await res.text()
  assert.match(html, /<script type="module" crossorigin src="\/assets\/playground-[\w-]+\.js">/)
  assert.doesNotMatch(html, /https?:\/\//)
})

test('the playground runs a query and a subscription with no network beyond the server', async () => {
  const { createPaste } = await gql(
    'mutation($input: CreatePasteInput!) { createPaste(input: $input) { paste { id } } }',
    { input: { content: 'watched', title: 'Playground target', visibility: 'PUBLIC' } },
  )
  const id = createPaste.paste.id
  const page = await offlinePage()
  await page.goto('/graphql')
  await run(page, `query Target { paste(id: "${id}") { id title views } }`)
  await eventually(async () => (await resultText(page)).includes('"Playground target"'), { message: 'query result' })
  const first = JSON.parse(await resultText(page))
  assert.equal(first.data.paste.id, id)
  await shoot(page, 'playground-query')

  // A subscription over /graphql/ws: the current count at once, then each new view.
  await run(page, `subscription Watch { pasteViews(id: "${id}") }`)
  await eventually(async () => /"pasteViews": \d+/.test(await resultText(page)), { message: 'first subscription event' })
  const before = JSON.parse(await resultText(page)).data.pasteViews
  await gql(`query { paste(id: "${id}") { content } }`) // one view
  await eventually(async () => JSON.parse(await resultText(page)).data?.pasteViews > before, {
    message: 'subscription update after a view',
  })
  assert.deepEqual(page.elsewhere, [], 'nothing was requested from another origin')
  assert.deepEqual(problemsOf(page), [])
  await page.context().close()
})

test('a visitor signed in to the web app queries as themselves', async () => {
  const username = uniqueUsername('pg')
  const { register } = await gql(
    'mutation($u: String!, $p: String!) { register(username: $u, password: $p) { token expiresAt user { id username } } }',
    { u: username, p: 'correct horse battery' },
  )
  const page = await offlinePage()
  await page.goto('/')
  await page.evaluate((session) => localStorage.setItem('pastebin.auth', JSON.stringify(session)), register)
  await page.goto('/graphql')
  await run(page, 'query Me { me { username } }')
  await eventually(async () => (await resultText(page)).includes(`"${username}"`), { message: 'me = the signed-in user' })
  // A mutation as that user: the paste is theirs.
  await run(page, 'mutation Create { createPaste(input: { content: "from the playground", visibility: PRIVATE }) { paste { viewerIsOwner author } } }')
  await eventually(async () => (await resultText(page)).includes('"viewerIsOwner": true'), { message: 'mutation as the user' })
  assert.deepEqual(page.elsewhere, [])
  assert.deepEqual(problemsOf(page), [])
  await page.context().close()
})
