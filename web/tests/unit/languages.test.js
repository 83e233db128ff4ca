import { createRequire } from 'node:module'
import { beforeAll, describe, expect, test } from 'vitest'
import { LANGUAGES, downloadName, isMarkdown, languageForServer, languageLabel } from '../../src/lib/languages.js'
import {
  ALIASES,
  GRAMMARS,
  HIGHLIGHT_LIMIT,
  detectLanguage,
  highlightBlock,
  highlightLines,
  highlightLinesAsync,
  loadAllLanguages,
  loadLanguage,
  resolveLanguage,
} from '../../src/lib/highlight.js'

describe('languages', () => {
  test('plain text is sent as null', () => {
    expect(languageForServer('plaintext')).toBeNull()
    expect(languageForServer(null)).toBeNull()
    expect(languageForServer('rust')).toBe('rust')
  })
  test('labels, also for unknown ids', () => {
    expect(languageLabel('rust')).toBe('Rust')
    expect(languageLabel(null)).toBe('Plain text')
    expect(languageLabel('cobol')).toBe('cobol')
  })
  test('Markdown is told by the language, or by a file name when there is no language', () => {
    expect(isMarkdown('markdown')).toBe(true)
    expect(isMarkdown('MD')).toBe(true)
    expect(isMarkdown(null, 'README.md')).toBe(true)
    expect(isMarkdown(null, 'notes.Markdown')).toBe(true)
    expect(isMarkdown('rust', 'README.md')).toBe(false)
    expect(isMarkdown(null, 'main.rs')).toBe(false)
    expect(isMarkdown(null)).toBe(false)
  })
  test('download names', () => {
    expect(downloadName({ id: 'Ab3', language: 'rust', title: null })).toBe('paste-Ab3.rs')
    expect(downloadName({ id: 'Ab3', language: null, title: 'My notes: draft 2' })).toBe('My-notes-draft-2.txt')
    expect(downloadName({ id: 'Ab3', language: 'python', title: 'main.py' })).toBe('main.py')
  })
  test('every listed language is registered in the highlighter', () => {
    for (const l of LANGUAGES) expect(resolveLanguage(l.id)).toBe(l.id)
  })
})

describe('grammars load on demand', () => {
  test('highlightLines gives plain lines until the grammar is loaded, then highlights', async () => {
    const code = 'local x = 1 -- lua\n'
    expect(highlightLines(code, 'lua').highlighted).toBe(false)
    expect(highlightBlock(code, 'lua')).toBeNull()
    expect((await highlightLinesAsync(code, 'lua')).highlighted).toBe(true)
    expect(highlightBlock(code, 'lua')).toContain('hljs-')
  })
  test('an alias loads its grammar; an unknown id loads nothing', async () => {
    expect(await loadLanguage('kts')).toBe('kotlin')
    expect(await loadLanguage('cobol')).toBeNull()
    expect(await loadLanguage(null)).toBeNull()
  })
  test('the alias table is the grammars\' own aliases', () => {
    const require = createRequire(import.meta.url)
    const hljs = require('highlight.js/lib/core')
    const declared = {}
    for (const name of GRAMMARS) {
      for (const a of require(`highlight.js/lib/languages/${name}`)(hljs).aliases || []) declared[a] = name
    }
    expect(ALIASES).toEqual(declared)
  })
})

describe('highlighter', () => {
  beforeAll(() => loadAllLanguages())
  test('aliases resolve', () => {
    expect(resolveLanguage('rs')).toBe('rust')
    expect(resolveLanguage('py')).toBe('python')
    expect(resolveLanguage('html')).toBe('xml')
    expect(resolveLanguage('cobol')).toBeNull()
  })
  test('highlights rust into balanced lines', () => {
    const r = highlightLines('fn main() {\n    /* a\n b */ println!("hi");\n}\n', 'rust')
    expect(r.highlighted).toBe(true)
    expect(r.lines).toHaveLength(5)
    expect(r.lines[0]).toContain('<span class="hljs-keyword">fn</span>')
    for (const line of r.lines) {
      expect((line.match(/<span/g) || []).length).toBe((line.match(/<\/span>/g) || []).length)
    }
  })
  test('plain text and unknown languages are escaped, not highlighted', () => {
    expect(highlightLines('<b>&</b>', null)).toEqual({ lines: ['&lt;b&gt;&amp;&lt;/b&gt;'], language: null, highlighted: false })
    expect(highlightLines('x', 'cobol').highlighted).toBe(false)
  })
  test('huge pastes are not highlighted', () => {
    expect(highlightLines('a'.repeat(HIGHLIGHT_LIMIT + 1), 'rust').highlighted).toBe(false)
  })
  test('auto-detection', async () => {
    const py = 'def greet(name):\n    """Say hi."""\n    for i in range(3):\n        print(f"hello {name} {i}")\n\nif __name__ == "__main__":\n    greet("world")\n'
    expect(await detectLanguage(py)).toBe('python')
    const rs = 'use std::collections::HashMap;\n\nfn main() {\n    let mut m: HashMap<String, u32> = HashMap::new();\n    m.insert("a".to_string(), 1);\n    println!("{:?}", m);\n}\n'
    expect(await detectLanguage(rs)).toBe('rust')
    expect(await detectLanguage('hi')).toBeNull()
    expect(await detectLanguage('{\n  "name": "x",\n  "version": 1\n}\n')).toBe('json')
    expect(await detectLanguage('#!/bin/sh\nset -e\nfor f in *.txt; do\n  echo "$f"\ndone\n')).toBe('bash')
    expect(await detectLanguage('services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n')).toBe('yaml')
  })
  test('auto-detection prefers plain text to a guess', async () => {
    const prose = 'Hello team,\n\nthe meeting is moved to 3 pm tomorrow. Please bring the notes from last week.\n\nThanks, Anna\n'
    expect(await detectLanguage(prose)).toBeNull()
    const log = '2026-11-01 12:00:01 INFO server started on :8080\n2026-11-01 12:00:02 WARN slow query 1200ms\n'
    expect(await detectLanguage(log)).toBeNull()
    expect(await detectLanguage('import os\n\ndef main():\n    print(os.getcwd())\n')).not.toBe('css')
  })
})
