import { describe, expect, it } from 'vitest'
import {
  clampLines,
  emptyFragment,
  formatFragment,
  formatLines,
  parseFragment,
  parseLines,
  selectLine,
  withLines,
} from '../../src/lib/fragment.js'

describe('parseFragment', () => {
  it('reads the forms of DESIGN §13', () => {
    expect(parseFragment('#L10')).toEqual({ key: null, file: null, lines: { start: 10, end: 10 }, other: [] })
    expect(parseFragment('#L10-L20').lines).toEqual({ start: 10, end: 20 })
    expect(parseFragment('#f=main.rs&L3-L9')).toEqual({ key: null, file: 'main.rs', lines: { start: 3, end: 9 }, other: [] })
    expect(parseFragment('#k=abc-_123')).toEqual({ key: 'abc-_123', file: null, lines: null, other: [] })
    expect(parseFragment('#k=KEY&f=main.rs&L3-L9')).toEqual({ key: 'KEY', file: 'main.rs', lines: { start: 3, end: 9 }, other: [] })
  })

  it('takes the parts in any order and without the leading #', () => {
    expect(parseFragment('L3-L9&k=KEY')).toEqual({ key: 'KEY', file: null, lines: { start: 3, end: 9 }, other: [] })
  })

  it('orders a reversed range and accepts L10-20', () => {
    expect(parseLines('L20-L10')).toEqual({ start: 10, end: 20 })
    expect(parseLines('L10-20')).toEqual({ start: 10, end: 20 })
  })

  it('decodes file names', () => {
    expect(parseFragment('#f=my%20file.md&L1').file).toBe('my file.md')
  })

  it('ignores malformed input and never throws', () => {
    for (const bad of [undefined, null, 42, {}, '', '#', '#&&', '#L0', '#L-3', '#L1.5', '#Lx', '#L10-', '#L99999999999', '#k=', '#f=%E0%A4%A', '#k=%']) {
      expect(() => parseFragment(bad)).not.toThrow()
      const f = parseFragment(bad)
      expect(f.lines).toBeNull()
      expect(f.key).toBeNull()
      expect(f.file).toBeNull()
    }
  })

  it('keeps unknown parts, and a malformed line part among good ones does not spoil them', () => {
    const f = parseFragment('#k=KEY&Lfoo&x=1&L5')
    expect(f).toEqual({ key: 'KEY', file: null, lines: { start: 5, end: 5 }, other: ['Lfoo', 'x=1'] })
    expect(formatFragment(f)).toBe('#k=KEY&L5&Lfoo&x=1')
  })

  it('takes the first of repeated parts', () => {
    expect(parseFragment('#L1&L2&k=a&k=b')).toMatchObject({ key: 'a', lines: { start: 1, end: 1 } })
  })
})

describe('formatFragment', () => {
  it('writes k, f, lines in that order', () => {
    expect(formatFragment({ lines: { start: 3, end: 9 }, file: 'main.rs', key: 'KEY' })).toBe('#k=KEY&f=main.rs&L3-L9')
    expect(formatFragment({ lines: { start: 10, end: 10 } })).toBe('#L10')
    expect(formatFragment(emptyFragment())).toBe('')
    expect(formatFragment(null)).toBe('')
  })

  it('encodes what would break the grammar', () => {
    expect(formatFragment({ file: 'a&b=c #d.md' })).toBe('#f=a%26b%3Dc%20%23d.md')
    expect(parseFragment(formatFragment({ file: 'a&b=c #d.md' })).file).toBe('a&b=c #d.md')
  })

  it('round-trips', () => {
    for (const h of ['#L10', '#L10-L20', '#f=main.rs&L3-L9', '#k=abc', '#k=abc&f=x.md&L1-L2', '#k=a+b/c:d@e']) {
      expect(formatFragment(parseFragment(h))).toBe(h)
    }
  })

  it('formats a line range', () => {
    expect(formatLines({ start: 4, end: 4 })).toBe('L4')
    expect(formatLines({ start: 4, end: 7 })).toBe('L4-L7')
    expect(formatLines(null)).toBe('')
  })
})

describe('changing lines', () => {
  it('keeps the key (and the file) when the lines change', () => {
    const f = parseFragment('#k=SECRET&L1')
    expect(formatFragment(withLines(f, { start: 3, end: 9 }))).toBe('#k=SECRET&L3-L9')
    expect(formatFragment(withLines(f, null))).toBe('#k=SECRET')
    expect(formatFragment(withLines(f, { start: 2, end: 2 }, 'main.rs'))).toBe('#k=SECRET&f=main.rs&L2')
  })

  it('selects, toggles and extends', () => {
    expect(selectLine(null, 5)).toEqual({ start: 5, end: 5 })
    expect(selectLine({ start: 5, end: 5 }, 5)).toBeNull()
    expect(selectLine({ start: 5, end: 5 }, 9)).toEqual({ start: 9, end: 9 })
    expect(selectLine({ start: 5, end: 5 }, 9, { extend: true })).toEqual({ start: 5, end: 9 })
    expect(selectLine({ start: 5, end: 9 }, 2, { extend: true, anchor: 5 })).toEqual({ start: 2, end: 5 })
    expect(selectLine({ start: 5, end: 9 }, 2, { extend: true, anchor: 9 })).toEqual({ start: 2, end: 9 })
    expect(selectLine(null, 7, { extend: true })).toEqual({ start: 7, end: 7 })
    expect(selectLine({ start: 1, end: 1 }, 0)).toEqual({ start: 1, end: 1 })
  })

  it('clamps to the text', () => {
    expect(clampLines({ start: 3, end: 99 }, 10)).toEqual({ start: 3, end: 10 })
    expect(clampLines({ start: 11, end: 12 }, 10)).toBeNull()
    expect(clampLines(null, 10)).toBeNull()
  })
})
