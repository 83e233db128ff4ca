// highlight.js core, with each grammar loaded when a paste in its language is shown (a
// dynamic import per grammar: a Rust paste fetches the Rust grammar only). Detection, on
// the new-paste page, loads them all.
import hljs from 'highlight.js/lib/core'
import { escapeHtml, splitHighlightedLines } from './lines.js'

/** The curated grammars, each its own chunk. */
const LOADERS = {
  bash: () => import('highlight.js/lib/languages/bash'),
  c: () => import('highlight.js/lib/languages/c'),
  cpp: () => import('highlight.js/lib/languages/cpp'),
  csharp: () => import('highlight.js/lib/languages/csharp'),
  css: () => import('highlight.js/lib/languages/css'),
  diff: () => import('highlight.js/lib/languages/diff'),
  dockerfile: () => import('highlight.js/lib/languages/dockerfile'),
  go: () => import('highlight.js/lib/languages/go'),
  graphql: () => import('highlight.js/lib/languages/graphql'),
  ini: () => import('highlight.js/lib/languages/ini'),
  java: () => import('highlight.js/lib/languages/java'),
  javascript: () => import('highlight.js/lib/languages/javascript'),
  json: () => import('highlight.js/lib/languages/json'),
  kotlin: () => import('highlight.js/lib/languages/kotlin'),
  lua: () => import('highlight.js/lib/languages/lua'),
  makefile: () => import('highlight.js/lib/languages/makefile'),
  markdown: () => import('highlight.js/lib/languages/markdown'),
  nginx: () => import('highlight.js/lib/languages/nginx'),
  perl: () => import('highlight.js/lib/languages/perl'),
  php: () => import('highlight.js/lib/languages/php'),
  plaintext: () => import('highlight.js/lib/languages/plaintext'),
  python: () => import('highlight.js/lib/languages/python'),
  ruby: () => import('highlight.js/lib/languages/ruby'),
  rust: () => import('highlight.js/lib/languages/rust'),
  scss: () => import('highlight.js/lib/languages/scss'),
  shell: () => import('highlight.js/lib/languages/shell'),
  sql: () => import('highlight.js/lib/languages/sql'),
  swift: () => import('highlight.js/lib/languages/swift'),
  typescript: () => import('highlight.js/lib/languages/typescript'),
  xml: () => import('highlight.js/lib/languages/xml'),
  yaml: () => import('highlight.js/lib/languages/yaml'),
}

/** The grammar names. */
export const GRAMMARS = Object.freeze(Object.keys(LOADERS))

/**
 * Aliases of the curated grammars (as highlight.js declares them; a unit test checks this
 * table against the grammars), so that an alias is resolved before its grammar is loaded.
 */
export const ALIASES = Object.freeze({
  sh: 'bash', zsh: 'bash', h: 'c', cc: 'cpp', 'c++': 'cpp', 'h++': 'cpp', hpp: 'cpp', hh: 'cpp',
  hxx: 'cpp', cxx: 'cpp', cs: 'csharp', 'c#': 'csharp', patch: 'diff', docker: 'dockerfile',
  golang: 'go', gql: 'graphql', toml: 'ini', jsp: 'java', js: 'javascript', jsx: 'javascript',
  mjs: 'javascript', cjs: 'javascript', jsonc: 'json', json5: 'json', kt: 'kotlin', kts: 'kotlin',
  ktm: 'kotlin', ktx: 'kotlin', pluto: 'lua', mk: 'makefile', mak: 'makefile', make: 'makefile',
  md: 'markdown', mkdown: 'markdown', mkd: 'markdown', nginxconf: 'nginx', pl: 'perl', pm: 'perl',
  text: 'plaintext', txt: 'plaintext', py: 'python', gyp: 'python', ipython: 'python', rb: 'ruby',
  gemspec: 'ruby', podspec: 'ruby', thor: 'ruby', irb: 'ruby', rs: 'rust', console: 'shell',
  shellsession: 'shell', ts: 'typescript', tsx: 'typescript', mts: 'typescript', cts: 'typescript',
  html: 'xml', xhtml: 'xml', rss: 'xml', atom: 'xml', xjb: 'xml', xsd: 'xml', xsl: 'xml',
  plist: 'xml', wsf: 'xml', svg: 'xml', yml: 'yaml',
})

/** Grammars another one embeds (a missing one is shown as plain text inside it). */
const EMBEDS = { dockerfile: ['bash'], shell: ['bash'], xml: ['css', 'javascript'], markdown: ['xml'] }

hljs.configure({ ignoreUnescapedHTML: true })

const loading = new Map()

/** Loads and registers a grammar (and those it embeds); resolves to its name or null. */
export function loadLanguage(id) {
  const name = resolveLanguage(id)
  if (!name) return Promise.resolve(null)
  if (!loading.has(name)) {
    const p = Promise.all([
      LOADERS[name]().then((m) => hljs.registerLanguage(name, m.default)),
      ...(EMBEDS[name] || []).map((dep) => loadLanguage(dep)),
    ]).then(
      () => name,
      (e) => {
        loading.delete(name) // a failed chunk load may succeed next time
        throw e
      },
    )
    loading.set(name, p)
  }
  return loading.get(name)
}

/** Loads every curated grammar (for detection). */
export function loadAllLanguages() {
  return Promise.all(GRAMMARS.map(loadLanguage))
}

/** Above this many characters, pastes are shown without highlighting (keeps big pastes fast). */
export const HIGHLIGHT_LIMIT = 300_000
/** Auto-detection looks at the first this-many characters only. */
const DETECT_SAMPLE = 8_000
/** Candidates for auto-detection: 'shell' and 'plaintext' are never guessed. */
const DETECT_SUBSET = GRAMMARS.filter((n) => n !== 'plaintext' && n !== 'shell')

/** The grammar name for an id or alias ('rs' -> 'rust'), or null. Needs no grammar loaded. */
export function resolveLanguage(id) {
  if (!id) return null
  const key = String(id).toLowerCase()
  if (Object.hasOwn(LOADERS, key)) return key
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : null
}

/**
 * Highlights code with a grammar that is loaded (else returns plain lines); one balanced
 * HTML string per line.
 * @returns {{ lines: string[], language: string|null, highlighted: boolean }}
 */
export function highlightLines(code, languageId) {
  const language = resolveLanguage(languageId)
  if (!language || language === 'plaintext' || code.length > HIGHLIGHT_LIMIT || !hljs.getLanguage(language)) {
    return { lines: escapeHtml(code).split('\n'), language, highlighted: false }
  }
  const html = hljs.highlight(code, { language, ignoreIllegals: true }).value
  return { lines: splitHighlightedLines(html), language, highlighted: true }
}

/** Loads the grammar, then highlights (plain lines when it cannot be loaded). */
export async function highlightLinesAsync(code, languageId) {
  const language = resolveLanguage(languageId)
  if (language && language !== 'plaintext' && code.length <= HIGHLIGHT_LIMIT) {
    await loadLanguage(language).catch(() => null)
  }
  return highlightLines(code, languageId)
}

/** Highlights a block as one HTML string if its grammar is loaded, else null (for Markdown fences). */
export function highlightBlock(code, languageId) {
  const language = resolveLanguage(languageId)
  if (!language || language === 'plaintext' || !hljs.getLanguage(language) || code.length > HIGHLIGHT_LIMIT) return null
  return hljs.highlight(code, { language, ignoreIllegals: true }).value
}

/**
 * Best guess of the language, or null when not confident: highlight.js's relevance must
 * be clear (>= 4 and ahead of the runner-up, or >= 10), since short snippets give low,
 * close scores and a wrong guess looks worse than plain text. JSON is recognised by parsing.
 */
export async function detectLanguage(code) {
  await loadAllLanguages()
  return detectLoaded(code)
}

/** detectLanguage() with the grammars already loaded. */
export function detectLoaded(code) {
  const sample = code.slice(0, DETECT_SAMPLE)
  const trimmed = sample.trim()
  if (trimmed.length < 20) return null
  if (/^[[{]/.test(trimmed) && code.length <= DETECT_SAMPLE) {
    try {
      JSON.parse(code)
      return 'json'
    } catch {
      // not JSON
    }
  }
  const r = hljs.highlightAuto(sample, DETECT_SUBSET)
  if (!r.language) return null
  const margin = r.relevance - (r.secondBest?.relevance ?? 0)
  return r.relevance >= 10 || (r.relevance >= 4 && margin >= 1) ? r.language : null
}
