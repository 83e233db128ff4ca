// Pastes people keep working with: several files (with a local file dropped on the form),
// line links across files, Markdown files, edits with revisions and their diff, forks.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { eventually, gql, launch, newPage, problemsOf, shoot } from './helpers.mjs'

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  await browser?.close()
})

const MAIN = 'fn main() {\n    let x = 1;\n    println!("{x}");\n}\n'
const README = '# Read me\n\nSome **bold** words.\n\n- one\n- two\n'
const DATA = '{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}\n'

const hashOf = (page) => new URL(page.url()).hash
const selected = (page, prefix) =>
  page.locator(`[id^="${prefix}L"].line.selected`).evaluateAll((ls) => ls.map((l) => l.id))

/** Drops a local file on the form's file list, as a file manager would. */
async function dropFile(page, name, text) {
  await page.locator('[data-testid="file-list"]').evaluate(
    (el, { name, text }) => {
      const dt = new DataTransfer()
      dt.items.add(new File([text], name, { type: 'text/plain' }))
      for (const type of ['dragenter', 'dragover', 'drop']) {
        el.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }))
      }
    },
    { name, text },
  )
}

async function createThroughTheForm(page) {
  await page.goto('/')
  await page.locator('#paste-content').waitFor()
  await page.fill('#paste-title', 'Three files')
  await page.fill('#paste-file-name-0', 'main.rs')
  await page.fill('#paste-content', MAIN)
  await page.locator('[data-testid="add-file"]').click()
  await page.fill('#paste-file-name-1', 'README.md')
  await page.fill('#paste-content-1', README)
  await dropFile(page, 'data.json', DATA)
  await page.locator('#paste-file-name-2').waitFor()
  assert.equal(await page.inputValue('#paste-file-name-2'), 'data.json')
  assert.equal(await page.inputValue('#paste-content-2'), DATA)
  await shoot(page, 'new-paste-files')
  await page.getByRole('button', { name: 'Create paste' }).click()
  await page.waitForURL(/\/p\/[^/]+$/)
  return new URL(page.url()).pathname.split('/').pop()
}

test('a paste of several files: made with the form (one file dropped), shown file by file', async () => {
  const page = await newPage(browser)
  const id = await createThroughTheForm(page)
  await page.locator('[data-testid="created-notice"]').waitFor()
  const files = page.locator('[data-testid="paste-file"]')
  await eventually(async () => (await files.count()) === 3, { message: 'three files shown' })
  assert.deepEqual(await files.evaluateAll((fs) => fs.map((f) => f.dataset.file)), ['main.rs', 'README.md', 'data.json'])
  await page.locator('[data-testid="file-count"]').getByText('3 files').waitFor()
  // The Markdown file renders as a document; the others as code.
  const readme = files.nth(1)
  await readme.locator('[data-testid="markdown-body"] h1').getByText('Read me').waitFor()
  assert.equal(await readme.locator('strong').innerText(), 'bold')
  await readme.locator('[data-testid="show-source"]').click()
  await readme.locator('.code-view').getByText('# Read me').waitFor()
  assert.equal(await files.nth(0).locator('.code-view .line').count(), 4)
  // Each file has its raw link; the paste a zip.
  assert.match(await files.nth(2).locator('[data-testid="raw-link"]').getAttribute('href'), new RegExp(`/raw/${id}/data\\.json$`))
  assert.match(await page.locator('[data-testid="zip-link"]').getAttribute('href'), new RegExp(`/zip/${id}$`))
  const raw = await fetch(new URL(`/raw/${id}/data.json`, page.url()))
  assert.equal(await raw.text(), DATA)
  // What the server stored, as another reader gets it.
  const { paste } = await gql('query($id: ID!) { paste(id: $id) { files { name language content } } }', { id })
  assert.deepEqual(paste.files.map((f) => [f.name, f.language]), [['main.rs', 'rust'], ['README.md', 'markdown'], ['data.json', 'json']])
  await shoot(page, 'paste-files')
  assert.deepEqual(problemsOf(page), [])
})

test('line links name the file: #f=name&L3-L9 selects lines of that file, and keep k=', async () => {
  const { createPaste } = await gql('mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }', {
    i: { files: [{ name: 'main.rs', content: MAIN }, { name: 'data.json', content: DATA }] },
  })
  const id = createPaste.paste.id
  const page = await newPage(browser, { width: 1000, height: 500 })
  await page.goto(`/p/${id}#k=SECRET&f=data.json&L2-L4`)
  await page.locator('#f1-L2.selected').waitFor()
  assert.deepEqual(await selected(page, 'f1-'), ['f1-L2', 'f1-L3', 'f1-L4'])
  assert.deepEqual(await selected(page, 'f0-'), [], 'lines of the other file are not selected')
  await eventually(
    () => page.locator('#f1-L2').evaluate((el) => {
      const r = el.getBoundingClientRect()
      return r.top >= 0 && r.bottom <= window.innerHeight
    }),
    { message: 'the linked lines are scrolled into view' },
  )
  // A click in the other file moves the selection there, keeping the key.
  await page.locator('#f0-L2 a.ln').click()
  assert.equal(hashOf(page), '#k=SECRET&f=main.rs&L2')
  await page.locator('#f0-L3 a.ln').click({ modifiers: ['Shift'] })
  assert.equal(hashOf(page), '#k=SECRET&f=main.rs&L2-L3')
  assert.deepEqual(await selected(page, 'f1-'), [])
  // Each line's link names its file.
  assert.equal(await page.locator('#f1-L4 a.ln').getAttribute('href'), '#k=SECRET&f=data.json&L4')
  await shoot(page, 'paste-files-lines')
  assert.deepEqual(problemsOf(page), [])
})

test('editing makes revision 2, shown as edited; the history shows the diff between revisions', async () => {
  const page = await newPage(browser)
  const id = await createThroughTheForm(page)
  await page.locator('[data-testid="edit-link"]').click()
  await page.waitForURL(new RegExp(`/p/${id}/edit$`))
  await page.locator('#paste-content-1').waitFor()
  // The author of an anonymous paste edits in the same tab without typing the token again.
  assert.ok((await page.inputValue('#edit-token')).length >= 20)
  await page.fill('#paste-content', MAIN.replace('let x = 1;', 'let x = 2;'))
  await page.locator('[data-testid="file-2"]').getByRole('button', { name: /Remove/ }).click()
  await page.fill('#paste-file-name-1', 'NOTES.md')
  await shoot(page, 'edit-paste')
  await page.getByRole('button', { name: 'Save revision' }).click()
  await page.waitForURL(new RegExp(`/p/${id}$`))
  await page.locator('[data-testid="edited-notice"]').getByText('revision 2').waitFor()
  await page.locator('[data-testid="edited"]').waitFor()
  assert.match(await page.locator('[data-testid="revision"]').innerText(), /revision 2 of 2/)

  // Another reader sees it as edited, after a reload too.
  const reader = await newPage(browser)
  await reader.goto(`/p/${id}`)
  await reader.locator('[data-testid="edited"]').waitFor()
  await reader.locator('[data-testid="paste-file"][data-file="NOTES.md"]').waitFor()
  assert.deepEqual(await reader.locator('[data-testid="paste-file"]').evaluateAll((fs) => fs.map((f) => f.dataset.file)), ['main.rs', 'NOTES.md'])

  await reader.locator('[data-testid="history-link"]').click()
  await reader.waitForURL(new RegExp(`/p/${id}/history$`))
  const items = reader.locator('[data-testid="revision-item"]')
  await eventually(async () => (await items.count()) === 2, { message: 'two revisions listed' })
  assert.match(await items.nth(0).innerText(), /Revision 2[\s\S]*Edited main\.rs; renamed README\.md to NOTES\.md; removed data\.json/)
  await reader.locator('[data-testid="diff-heading"]').getByText(/from revision 1 to 2/).waitFor()
  const main = reader.locator('[data-testid="diff-file"][data-status="modified"]')
  await main.waitFor()
  const removedLines = await main.locator('.diff-line.del').count()
  const addedLines = await main.locator('.diff-line.add').count()
  assert.equal(removedLines, 1)
  assert.equal(addedLines, 1)
  assert.match(await main.locator('.diff-line.add').innerText(), /let x = 2;/)
  assert.match(await main.locator('.diff-line.del').innerText(), /let x = 1;/)
  await reader.locator('[data-testid="diff-file"][data-status="removed"]').getByText('data.json').waitFor()
  await reader.locator('[data-testid="diff-file"][data-status="renamed"]').getByText(/README\.md → NOTES\.md/).waitFor()
  await shoot(reader, 'paste-history')

  // The old revision stays readable.
  await reader.goto(`/p/${id}?rev=1`)
  await reader.locator('[data-testid="old-revision"]').waitFor()
  // The notice comes with the metadata; the files with the content read after it.
  await reader.locator('[data-testid="paste-file"]').nth(2).waitFor()
  assert.equal(await reader.locator('[data-testid="paste-file"]').count(), 3)
  assert.deepEqual(problemsOf(page, reader), [])
})

test('an open paste page hears of a revision saved elsewhere', async () => {
  const { createPaste } = await gql('mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } deleteToken } }', {
    i: { content: 'first\n' },
  })
  const { id } = createPaste.paste
  const page = await newPage(browser)
  await page.goto(`/p/${id}`)
  await page.locator('.views-live .live-dot:not(.off)').waitFor({ timeout: 10_000 })
  await gql('mutation($id: ID!, $i: UpdatePasteInput!, $t: String) { updatePaste(id: $id, input: $i, deleteToken: $t) { revision } }', {
    id,
    t: createPaste.deleteToken,
    i: { baseRevision: 1, content: 'second\n' },
  })
  await page.locator('[data-testid="newer-revision"]').getByText('Revision 2 was just saved').waitFor()
  assert.deepEqual(problemsOf(page), [])
})

test('an edit from a stale revision is refused with the conflict explained', async () => {
  const { createPaste } = await gql('mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } deleteToken } }', {
    i: { content: 'base text\n' },
  })
  const { id } = createPaste.paste
  const page = await newPage(browser)
  await page.goto(`/p/${id}/edit`)
  await page.locator('#paste-content').waitFor()
  await page.fill('#edit-token', createPaste.deleteToken)
  // Someone else saves first.
  await gql('mutation($id: ID!, $i: UpdatePasteInput!, $t: String) { updatePaste(id: $id, input: $i, deleteToken: $t) { revision } }', {
    id,
    t: createPaste.deleteToken,
    i: { baseRevision: 1, content: 'their text\n' },
  })
  await page.fill('#paste-content', 'my text\n')
  await page.getByRole('button', { name: 'Save revision' }).click()
  const error = page.locator('[data-testid="edit-error"]')
  await error.getByText('Changed meanwhile').waitFor()
  assert.equal(await page.inputValue('#paste-content'), 'my text\n', 'nothing typed is lost')
  assert.deepEqual(problemsOf(page), [])
})

test('a reader forks a paste: a new paste of theirs, linked back to the source', async () => {
  const { createPaste } = await gql('mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }', {
    i: { title: 'Source', files: [{ name: 'a.py', content: 'print(1)\n' }, { name: 'b.md', content: '# B\n' }], visibility: 'PUBLIC' },
  })
  const source = createPaste.paste.id
  const page = await newPage(browser)
  await page.goto(`/p/${source}`)
  await page.locator('[data-testid="fork-button"]').click()
  await page.waitForURL((u) => u.pathname.startsWith('/p/') && !u.pathname.endsWith(source))
  const fork = new URL(page.url()).pathname.split('/').pop()
  await page.locator('[data-testid="created-notice"]').waitFor()
  await page.locator('[data-testid="delete-token"]').waitFor() // an anonymous fork gets its token
  const link = page.locator('[data-testid="forked-from"] a')
  await link.waitFor()
  assert.equal(await link.getAttribute('href'), `/p/${source}`)
  assert.equal(await page.locator('[data-testid="paste-file"]').count(), 2)
  assert.notEqual(fork, source)
  const { paste } = await gql('query($id: ID!) { paste(id: $id) { forkedFrom { id } files { name content } } }', { id: fork })
  assert.equal(paste.forkedFrom.id, source)
  assert.deepEqual(paste.files.map((f) => f.name), ['a.py', 'b.md'])
  await shoot(page, 'paste-fork')
  assert.deepEqual(problemsOf(page), [])
})
