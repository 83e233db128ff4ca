// Markdown pastes: rendered as a sanitised document under the strict CSP, a Source switch,
// remote images shown as links (never fetched), code fences highlighted.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { gql, launch, newPage, problemsOf, shoot } from './helpers.mjs'

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  await browser?.close()
})

const MD = `# Release notes

Some **bold** text and a [link](https://example.com/docs).

<script>window.__pwned = 'script'</script>

<img src="x" onerror="window.__pwned = 'onerror'">

<p onclick="window.__pwned = 'click'" style="color: red">Click me</p>

![remote cat](https://images.example/cat.png)

\`\`\`rust
fn main() { println!("hi"); }
\`\`\`

| a | b |
|---|---|
| 1 | 2 |
`

async function createMarkdown() {
  const { createPaste } = await gql(
    'mutation($input: CreatePasteInput!) { createPaste(input: $input) { paste { id } } }',
    { input: { content: MD, title: 'Notes', language: 'markdown', visibility: 'UNLISTED' } },
  )
  return createPaste.paste.id
}

test('a Markdown paste renders as a document; scripts and handlers do nothing', async () => {
  const id = await createMarkdown()
  const page = await newPage(browser)
  const requested = []
  page.on('request', (r) => requested.push(r.url()))
  await page.goto(`/p/${id}`)
  const body = page.locator('[data-testid="markdown-body"]')
  await body.locator('h1').waitFor()
  assert.equal(await body.locator('h1').innerText(), 'Release notes')
  assert.equal(await body.locator('strong').innerText(), 'bold')
  assert.equal(await body.locator('table td').first().innerText(), '1')
  // Fences use the app's highlighter.
  await body.locator('pre code.language-rust .hljs-keyword').first().waitFor()
  // Raw HTML is shown as text; nothing in it ran, nothing of it is an element.
  assert.match(await body.innerText(), /<script>window\.__pwned = 'script'<\/script>/)
  assert.match(await body.innerText(), /<img src="x" onerror=/)
  await body.locator('p', { hasText: 'Click me' }).click()
  assert.equal(await page.evaluate(() => window.__pwned ?? null), null)
  assert.equal(await body.locator('script, [onerror], [onclick], [style]').count(), 0)
  // The remote image is a link showing its URL, and was never requested.
  const img = body.locator('a.md-image', { hasText: 'remote cat' })
  assert.equal(await img.getAttribute('href'), 'https://images.example/cat.png')
  assert.match(await img.innerText(), /https:\/\/images\.example\/cat\.png/)
  assert.equal(await body.locator('img').count(), 0)
  assert.ok(!requested.some((u) => u.includes('images.example')), 'no request to the image host')
  await shoot(page, 'paste-markdown')
  // No CSP violation, no page error.
  assert.deepEqual(problemsOf(page), [])
  await page.context().close()
})

test('the Source switch shows the text with line numbers, and back', async () => {
  const id = await createMarkdown()
  const page = await newPage(browser)
  await page.goto(`/p/${id}`)
  await page.locator('[data-testid="markdown-body"] h1').waitFor()
  assert.equal(await page.getByTestId('show-rendered').getAttribute('aria-pressed'), 'true')
  await page.getByTestId('show-source').click()
  assert.equal(await page.getByTestId('show-source').getAttribute('aria-pressed'), 'true')
  await page.locator('.code-view #L1').waitFor()
  assert.match(await page.locator('.code-view #L1').innerText(), /# Release notes/)
  assert.equal(await page.locator('[data-testid="markdown-body"]').count(), 0)
  await page.getByTestId('show-rendered').click()
  await page.locator('[data-testid="markdown-body"] h1').waitFor()
  // A link to lines opens the source.
  await page.goto(`/p/${id}#L3`)
  await page.locator('.code-view #L3.selected').waitFor()
  assert.equal(await page.getByTestId('show-source').getAttribute('aria-pressed'), 'true')
  assert.deepEqual(problemsOf(page), [])
  await page.context().close()
})
