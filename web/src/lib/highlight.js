// highlight.js with the curated grammars only (lazy-loaded by the pages that need it).
import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import c from 'highlight.js/lib/languages/c'
import cpp from 'highlight.js/lib/languages/cpp'
import csharp from 'highlight.js/lib/languages/csharp'
import css from 'highlight.js/lib/languages/css'
import diff from 'highlight.js/lib/languages/diff'
import dockerfile from 'highlight.js/lib/languages/dockerfile'
import go from 'highlight.js/lib/languages/go'
import graphql from 'highlight.js/lib/languages/graphql'
import ini from 'highlight.js/lib/languages/ini'
import java from 'highlight.js/lib/languages/java'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import kotlin from 'highlight.js/lib/languages/kotlin'
import lua from 'highlight.js/lib/languages/lua'
import makefile from 'highlight.js/lib/languages/makefile'
import markdown from 'highlight.js/lib/languages/markdown'
import nginx from 'highlight.js/lib/languages/nginx'
import perl from 'highlight.js/lib/languages/perl'
import php from 'highlight.js/lib/languages/php'
import plaintext from 'highlight.js/lib/languages/plaintext'
import python from 'highlight.js/lib/languages/python'
import ruby from 'highlight.js/lib/languages/ruby'
import rust from 'highlight.js/lib/languages/rust'
import scss from 'highlight.js/lib/languages/scss'
import shell from 'highlight.js/lib/languages/shell'
import sql from 'highlight.js/lib/languages/sql'
import swift from 'highlight.js/lib/languages/swift'
import typescript from 'highlight.js/lib/languages/typescript'
import xml from 'highlight.js/lib/languages/xml'
import yaml from 'highlight.js/lib/languages/yaml'
import { escapeHtml, splitHighlightedLines } from './lines.js'

const grammars = {
  bash, c, cpp, csharp, css, diff, dockerfile, go, graphql, ini, java, javascript, json, kotlin, lua,
  makefile, markdown, nginx, perl, php, plaintext, python, ruby, rust, scss, shell, sql, swift,
  typescript, xml, yaml,
}
for (const [name, grammar] of Object.entries(grammars)) hljs.registerLanguage(name, grammar)
hljs.configure({ ignoreUnescapedHTML: true })

/** Above this many characters, pastes are shown without highlighting (keeps big pastes fast). */
export const HIGHLIGHT_LIMIT = 300_000
/** Auto-detection looks at the first this-many characters only. */
const DETECT_SAMPLE = 8_000
/** Candidates for auto-detection: 'shell' and 'plaintext' are never guessed. */
const DETECT_SUBSET = Object.keys(grammars).filter((n) => n !== 'plaintext' && n !== 'shell')

/** The registered name for an id or alias ('rs' -> 'rust'), or null. */
export function resolveLanguage(id) {
  if (!id) return null
  const lang = hljs.getLanguage(String(id).toLowerCase())
  if (!lang) return null
  const canonical = Object.keys(grammars).find((n) => hljs.getLanguage(n) === lang)
  return canonical || null
}

/**
 * Highlights code; returns one balanced HTML string per line.
 * @returns {{ lines: string[], language: string|null, highlighted: boolean }}
 */
export function highlightLines(code, languageId) {
  const language = resolveLanguage(languageId)
  if (!language || language === 'plaintext' || code.length > HIGHLIGHT_LIMIT) {
    return { lines: escapeHtml(code).split('\n'), language, highlighted: false }
  }
  const html = hljs.highlight(code, { language, ignoreIllegals: true }).value
  return { lines: splitHighlightedLines(html), language, highlighted: true }
}

/**
 * Best guess of the language, or null when not confident: highlight.js's relevance must
 * be clear (>= 4 and ahead of the runner-up, or >= 10), since short snippets give low,
 * close scores and a wrong guess looks worse than plain text. JSON is recognised by parsing.
 */
export function detectLanguage(code) {
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
