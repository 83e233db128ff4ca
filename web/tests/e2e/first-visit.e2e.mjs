// A first visit to a paste page (empty cache): the bytes on the wire, summed from Chromium's
// own accounting (CDP Network.loadingFinished encodedDataLength: headers and encoded body of
// every response). The target (≤ 200 KB) belongs to `make bench`; this test prints the figure
// and each response, and asserts a generous ceiling.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, gql, launch, newPage, problemsOf } from './helpers.mjs'

const CEILING = 250 * 1024

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  await browser?.close()
})

const RUST = `use std::collections::HashMap;

/// Counts the words of a text.
fn count(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}

fn main() {
    let counts = count("the quick brown fox jumps over the lazy dog the end");
    let mut words: Vec<_> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (word, n) in words {
        println!("{word:>8} {n}");
    }
}
`

test('first visit to a paste page: bytes transferred', async () => {
  const { createPaste } = await gql(
    'mutation($input: CreatePasteInput!) { createPaste(input: $input) { paste { id } } }',
    { input: { content: RUST, title: 'Word count', language: 'rust', visibility: 'UNLISTED' } },
  )
  const page = await newPage(browser)
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
  const requests = new Map()
  cdp.on('Network.requestWillBeSent', (e) => requests.set(e.requestId, { url: e.request.url, bytes: 0 }))
  cdp.on('Network.responseReceived', (e) => {
    const r = requests.get(e.requestId)
    if (r) {
      r.encoding = e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || ''
      r.vary = e.response.headers.vary || e.response.headers.Vary || ''
      r.status = e.response.status
    }
  })
  cdp.on('Network.loadingFinished', (e) => {
    const r = requests.get(e.requestId)
    if (r) r.bytes = e.encodedDataLength
  })

  await page.goto(`/p/${createPaste.paste.id}`)
  await page.locator('.code-view[data-highlighted="true"]').waitFor()
  await page.locator('[data-testid="views"]').waitFor()
  await page.waitForLoadState('networkidle')

  const list = [...requests.values()].filter((r) => r.bytes > 0)
  const total = list.reduce((n, r) => n + r.bytes, 0)
  console.log(`# first visit to a paste page: ${total} bytes (${(total / 1024).toFixed(1)} KiB) in ${list.length} responses`)
  for (const r of list.sort((a, b) => b.bytes - a.bytes)) {
    console.log(`#   ${String(r.bytes).padStart(7)}  ${r.encoding.padEnd(4)}  ${r.url.replace(BASE, '')}`)
  }
  assert.ok(total <= CEILING, `first visit transferred ${total} bytes (ceiling ${CEILING})`)

  // Scripts and styles came precompressed, and say that the body depends on Accept-Encoding.
  const assets = list.filter((r) => /\/assets\/.+\.(js|css)$/.test(r.url) && r.bytes > 1500)
  assert.ok(assets.length > 0)
  for (const r of assets) {
    assert.equal(r.encoding, 'br', `${r.url} is sent brotli-compressed`)
    assert.match(r.vary, /accept-encoding/i, `${r.url} has Vary: Accept-Encoding`)
  }
  // Only the grammar of the paste's language was fetched.
  const grammars = list.filter((r) => /\/assets\/(rust|python|javascript|xml|css)-[\w-]+\.js$/.test(r.url))
  assert.deepEqual(grammars.map((r) => r.url.replace(/^.*\/assets\/([a-z]+)-.*$/, '$1')), ['rust'])
  assert.deepEqual(problemsOf(page), [])
  await page.context().close()
})

test('precompressed copies are chosen by Accept-Encoding; assets stay immutable', async () => {
  const html = await fetch(`${BASE}/`)
  const text = await html.text()
  const script = text.match(/src="(\/assets\/[^"]+\.js)"/)?.[1]
  assert.ok(script, 'index.html names its script')
  for (const [accept, expected] of [['br, gzip', 'br'], ['gzip', 'gzip'], ['identity', null]]) {
    // fetch() would decode (and ask for gzip itself): ask with a plain HTTP/1.1 request instead.
    const res = await rawGet(script, accept)
    assert.equal(res.headers['content-encoding'] ?? null, expected, `${script} with Accept-Encoding: ${accept}`)
    assert.match(res.headers.vary || '', /accept-encoding/i)
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable')
    assert.match(res.headers['content-type'], /javascript/)
  }
  // The history-mode fallback (index.html for any path) is precompressed too.
  const page = await rawGet('/p/some-id', 'br')
  assert.equal(page.status, 200)
  assert.equal(page.headers['content-encoding'], 'br')
  assert.equal(page.headers['cache-control'], 'no-cache')
})

async function rawGet(path, acceptEncoding) {
  const { request } = await import('node:http')
  return new Promise((resolve, reject) => {
    const req = request(`${BASE}${path}`, { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}
