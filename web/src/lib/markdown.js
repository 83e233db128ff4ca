// Markdown pastes rendered as a document: markdown-it (CommonMark + tables, strikethrough,
// linkify), then DOMPurify. No hand-written filter decides what is safe: DOMPurify does.
// Raw HTML in the Markdown is shown as text (markdown-it `html: false`), not rendered: a
// pastebin's documents need no HTML beyond Markdown's, every tag let through is attack
// surface, and parsing a paste's `onerror=` even in DOMPurify's inert document makes
// Chromium report CSP violations. DOMPurify then checks markdown-it's output, with a few
// stricter settings for this page:
// - no `style` (the CSP forbids inline styles anyway), no forms or form controls (a paste must
//   not post to this origin), ids and names prefixed (`user-content-`) so that a paste cannot
//   clobber the page's own ids (`L10`, `main`) or globals;
// - classes kept only when they are the highlighter's (`hljs-*`, `language-*`), so a paste
//   cannot dress itself in the app's own notices;
// - images load only from `data:` URLs. Any other image becomes a link that shows its URL:
//   the page's CSP (`img-src 'self' data:`) would block a remote one anyway, and loading it
//   would tell a third party who reads the paste and when (tracking pixels, unlisted links).
//   An image on this origin is not loaded either: `/raw/{id}` counts a view of another paste.
// Code fences are highlighted with the app's highlighter (grammars loaded first).
import MarkdownIt from 'markdown-it'
import createDOMPurify from 'dompurify'
import { highlightBlock, loadLanguage, resolveLanguage } from './highlight.js'

const md = new MarkdownIt({
  html: false,
  linkify: true,
  typographer: false,
  highlight: (code, lang) => highlightBlock(code, lang) ?? '',
})
// Table column alignment as a class, not markdown-it's style="text-align: …" (the CSP
// forbids inline styles).
md.core.ruler.push('align_as_class', (state) => {
  for (const token of state.tokens) {
    if (token.type !== 'th_open' && token.type !== 'td_open') continue
    const style = token.attrGet('style')
    if (!style) continue
    const m = /text-align:\s*(left|center|right)/.exec(style)
    token.attrs = token.attrs.filter(([name]) => name !== 'style')
    if (m) token.attrJoin('class', `md-align-${m[1]}`)
  }
})

/** Image data: URLs shown inline (no request is made for them). */
const INLINE_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp|avif|bmp|svg\+xml)[;,]/i
const KEEP_CLASS = /^(?:hljs(?:-[\w-]+)?|language-[\w+#.-]+|md-align-(?:left|center|right))$/
const LINK_REL = 'nofollow noopener noreferrer ugc'

const SANITIZE = {
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'select', 'option', 'textarea', 'fieldset', 'dialog'],
  FORBID_ATTR: ['style', 'target', 'formaction', 'action', 'autofocus', 'tabindex'],
  SANITIZE_NAMED_PROPS: true,
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
}

const purifiers = new WeakMap()
function purifierFor(win) {
  if (!purifiers.has(win)) purifiers.set(win, createDOMPurify(win))
  return purifiers.get(win)
}

/** The languages named by the code fences of a Markdown text (resolved, known ones only). */
export function fenceLanguages(source) {
  const out = new Set()
  for (const t of md.parse(source, {})) {
    if (t.type !== 'fence') continue
    const name = resolveLanguage((t.info || '').trim().split(/\s+/)[0])
    if (name) out.add(name)
  }
  return [...out]
}

function replaceImage(doc, img) {
  const src = img.getAttribute('src') || ''
  if (INLINE_IMAGE.test(src)) return
  const alt = (img.getAttribute('alt') || '').trim()
  const label = `Image${alt ? `: ${alt}` : ''}`
  let node
  if (src) {
    node = doc.createElement('a')
    node.setAttribute('href', src)
    node.setAttribute('rel', LINK_REL)
    node.setAttribute('title', 'Images from other sites are not loaded: open it yourself')
    node.append(doc.createTextNode(`${label} `))
    const url = doc.createElement('span')
    url.className = 'md-image-url'
    url.textContent = `(${src})`
    node.append(url)
  } else {
    node = doc.createElement('span')
    node.textContent = label
  }
  node.classList.add('md-image')
  img.replaceWith(node)
}

/**
 * Markdown to a sanitised DocumentFragment of `win`'s document. Loads the grammars of its code
 * fences first. Never throws on bad input (the text is shown, escaped, at worst).
 * @param {string} source
 * @param {Window} [win] the window whose document gets the nodes (tests pass jsdom's)
 * @returns {Promise<DocumentFragment>}
 */
export async function renderMarkdown(source, win = globalThis.window) {
  const text = typeof source === 'string' ? source : ''
  await Promise.all(fenceLanguages(text).map((l) => loadLanguage(l).catch(() => null)))
  return sanitize(md.render(text), win)
}

/**
 * DOMPurify with this page's settings, then images to links, classes filtered, link rels set.
 * @param {string} html
 * @param {Window} [win]
 * @returns {DocumentFragment}
 */
export function sanitize(html, win = globalThis.window) {
  const fragment = purifierFor(win).sanitize(html, SANITIZE)
  const doc = win.document
  for (const img of [...fragment.querySelectorAll('img')]) replaceImage(doc, img)
  for (const el of fragment.querySelectorAll('[class]')) {
    if (el.classList.contains('md-image') || el.classList.contains('md-image-url')) continue
    const keep = [...el.classList].filter((c) => KEEP_CLASS.test(c))
    if (keep.length) el.setAttribute('class', keep.join(' '))
    else el.removeAttribute('class')
  }
  for (const a of fragment.querySelectorAll('a[href]')) a.setAttribute('rel', LINK_REL)
  return fragment
}
