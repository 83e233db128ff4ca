import { describe, expect, test } from 'vitest'
import { escapeHtml, splitHighlightedLines } from '../../src/lib/lines.js'

describe('splitHighlightedLines', () => {
  test('plain lines', () => {
    expect(splitHighlightedLines('a\nb\n')).toEqual(['a', 'b', ''])
  })
  test('a span across lines is closed and reopened', () => {
    const html = 'x <span class="hljs-comment">/* one\ntwo */</span> y'
    expect(splitHighlightedLines(html)).toEqual(['x <span class="hljs-comment">/* one</span>', '<span class="hljs-comment">two */</span> y'])
  })
  test('nested spans', () => {
    const html = '<span class="a"><span class="b">1\n2</span>3\n4</span>'
    expect(splitHighlightedLines(html)).toEqual([
      '<span class="a"><span class="b">1</span></span>',
      '<span class="a"><span class="b">2</span>3</span>',
      '<span class="a">4</span>',
    ])
  })
  test('entities stay intact', () => {
    expect(splitHighlightedLines('&lt;a&gt;\n&amp;')).toEqual(['&lt;a&gt;', '&amp;'])
  })
})

test('escapeHtml', () => {
  expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;')
})
