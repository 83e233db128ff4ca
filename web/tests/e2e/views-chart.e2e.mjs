// Views you can see: the paste page's chart of views per hour (uPlot, labelled axes, a table
// of the same numbers) updated live from pasteViews; "My pastes" shows each total and a
// sparkline, fetched in GraphQL batches.
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

const CREATE = 'mutation($input: CreatePasteInput!) { createPaste(input: $input) { paste { id } } }'

/** The sum of the table's view counts. */
const tableTotal = (page) =>
  page.locator('[data-testid="views-table"] tbody td:last-child').evaluateAll((tds) => tds.reduce((n, td) => n + (Number(td.textContent) || 0), 0))

test('a paste page draws its views per hour, with a table, and follows new views live', async () => {
  const { createPaste } = await gql(CREATE, { input: { content: 'chart me\n', title: 'Chart', visibility: 'PUBLIC' } })
  const id = createPaste.paste.id
  const page = await newPage(browser)
  await page.goto(`/p/${id}`)
  const chart = page.locator('[data-testid="views-chart"][data-state="ready"]')
  await chart.waitFor()
  // Drawn (uPlot draws its axis labels on the canvas), with the axes named in the label that
  // screen readers read, and the table fallback.
  await chart.locator('canvas').first().waitFor()
  assert.match(await chart.locator('[role="img"]').getAttribute('aria-label'), /^Bar chart, hours \(your time\) across, views up: 1 view/)
  const axes = await page.evaluate(() => [...document.querySelectorAll('.views-chart .u-axis')].length)
  assert.equal(axes, 2, 'two axes')
  assert.equal(await chart.locator('[data-testid="views-table"]').count(), 1)
  await chart.locator('summary', { hasText: 'Show as a table' }).click()
  await eventually(async () => (await tableTotal(page)) === 1, { message: 'the table counts this page’s view' })

  // Another reader: the live count rises, and the current hour's bar and row with it.
  await gql(`query { paste(id: "${id}") { content } }`)
  await eventually(async () => (await tableTotal(page)) === 2, { message: 'the table follows the live count' })
  await eventually(async () => /^2 views/.test(await chart.locator('[data-testid="views-chart-summary"]').innerText()), {
    message: 'the summary follows',
  })
  // The table and the server agree.
  const now = new Date()
  const { pasteStats } = await gql('query($id: ID!, $from: DateTime!, $to: DateTime!) { pasteStats(id: $id, from: $from, to: $to) { views } }', {
    id,
    from: new Date(now.getTime() - 3 * 3_600_000).toISOString(),
    to: new Date(now.getTime() + 3_600_000).toISOString(),
  })
  assert.equal(pasteStats.reduce((n, s) => n + s.views, 0), 2)
  await shoot(page, 'paste-views-chart')
  assert.deepEqual(problemsOf(page), [])
  await page.context().close()
})

test('the server decides: the chart is shown exactly when pasteStats answers this viewer', async () => {
  // An unlisted paste read by someone who is not its owner: whichever way the server rules
  // (DESIGN §13 says anyone who may read it may see its statistics), the page follows it.
  const { createPaste } = await gql(CREATE, { input: { content: 'unlisted\n', visibility: 'UNLISTED' } })
  const id = createPaste.paste.id
  const res = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'query($id: ID!, $from: DateTime!, $to: DateTime!) { pasteStats(id: $id, from: $from, to: $to) { views } }',
      variables: { id, from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() },
    }),
  }).then((r) => r.json())
  const answers = !res.errors?.length
  const page = await newPage(browser)
  await page.goto(`/p/${id}`)
  await page.locator('#L1').waitFor()
  if (answers) {
    await page.locator('[data-testid="views-chart"][data-state="ready"]').waitFor()
  } else {
    // Wait until the refusal has come back (the chart's place is there, the request answered).
    await eventually(async () => (await page.locator('.chart-slot').count()) === 1, { message: 'chart slot' })
    await page.waitForLoadState('networkidle')
    assert.equal(await page.locator('[data-testid="views-chart"]').count(), 0, 'no chart when the server refuses')
  }
  assert.deepEqual(problemsOf(page), [])
  await page.context().close()
})

test('the chart and uPlot are loaded only when the chart comes into view', async () => {
  const long = Array.from({ length: 400 }, (_, i) => `line ${i}`).join('\n')
  const { createPaste } = await gql(CREATE, { input: { content: long, visibility: 'PUBLIC' } })
  const page = await newPage(browser, { height: 600 })
  const scripts = []
  page.on('request', (r) => scripts.push(r.url()))
  await page.goto(`/p/${createPaste.paste.id}`)
  await page.locator('#L400').waitFor()
  assert.ok(!scripts.some((u) => /ViewsChart-/.test(u)), 'not loaded before it is needed')
  await page.locator('#L400').scrollIntoViewIfNeeded()
  await page.locator('[data-testid="views-chart"][data-state="ready"]').waitFor()
  assert.ok(scripts.some((u) => /ViewsChart-/.test(u)))
  assert.deepEqual(problemsOf(page), [])
  await page.context().close()
})

test('My pastes shows each paste’s total and a sparkline, in batched requests', async () => {
  const username = uniqueUsername('spark')
  const { register } = await gql(
    'mutation($u: String!, $p: String!) { register(username: $u, password: $p) { token expiresAt user { id username } } }',
    { u: username, p: 'correct horse battery' },
  )
  const ids = []
  for (let i = 0; i < 12; i += 1) {
    const { createPaste } = await gql(CREATE, { input: { content: `paste ${i}`, title: `Spark ${i}`, visibility: 'PRIVATE' } }, register.token)
    ids.push(createPaste.paste.id)
  }
  // Two views of the newest paste, in its statistics (pasteStats may lag the live count for
  // a moment when Redis cannot say what is pending: wait for the condition).
  for (let i = 0; i < 2; i += 1) await gql(`query { paste(id: "${ids[11]}") { content } }`, {}, register.token)
  const hour = 3_600_000
  await eventually(async () => {
    const { pasteStats } = await gql(
      'query($id: ID!, $from: DateTime!, $to: DateTime!) { pasteStats(id: $id, from: $from, to: $to) { views } }',
      { id: ids[11], from: new Date(Date.now() - 2 * hour).toISOString(), to: new Date(Date.now() + hour).toISOString() },
      register.token,
    )
    return pasteStats.reduce((n, s) => n + s.views, 0) === 2
  }, { message: 'two views in pasteStats' })

  const page = await newPage(browser)
  const statsPosts = []
  page.on('request', (r) => {
    if (r.url().endsWith('/graphql') && r.method() === 'POST' && (r.postData() || '').includes('PasteStats')) statsPosts.push(JSON.parse(r.postData()))
  })
  await page.goto('/')
  await page.evaluate((session) => localStorage.setItem('pastebin.auth', JSON.stringify(session)), register)
  await page.goto('/me')
  const rows = page.locator('.paste-list li')
  await eventually(async () => (await rows.count()) === 12, { message: '12 rows' })
  await eventually(async () => (await page.locator('[data-testid="sparkline"][data-ready="true"]').count()) === 12, { message: '12 sparklines' })
  const newest = page.locator(`li[data-paste-id="${ids[11]}"] [data-testid="sparkline"]`)
  assert.equal((await newest.locator('.sparkline-total').innerText()).trim(), '2')
  assert.match(await newest.locator('svg').getAttribute('aria-label'), /^2 views in the last 48 hours/)
  // 12 pasteStats operations in 2 HTTP requests (batches of at most 10), not 12.
  assert.equal(statsPosts.length, 2, `stats requests: ${statsPosts.length}`)
  assert.ok(statsPosts.every((b) => Array.isArray(b) && b.length <= 10))
  assert.equal(statsPosts.flat().length, 12)
  await shoot(page, 'my-pastes-sparklines')
  assert.deepEqual(problemsOf(page), [])
  await page.context().close()
})
