import { describe, expect, test } from 'vitest'
import { formatBytes, utf8ByteLength } from '../../src/lib/bytes.js'

describe('utf8ByteLength', () => {
  const cases = ['', 'hello', 'é', 'ü€', '日本語', '😀', 'a😀b', 'tab\tnew\nline', '\u{10FFFF}', 'ß'.repeat(1000)]
  test.each(cases)('matches TextEncoder for %j', (s) => {
    expect(utf8ByteLength(s)).toBe(new TextEncoder().encode(s).length)
  })
  test('counts bytes, not UTF-16 units', () => {
    expect('😀'.length).toBe(2)
    expect(utf8ByteLength('😀')).toBe(4)
    expect(utf8ByteLength('€')).toBe(3)
  })
  test('lone surrogates count as U+FFFD (3 bytes), like TextEncoder', () => {
    for (const s of ['\ud800', 'a\udc00b', '\ud800\ud800']) {
      expect(utf8ByteLength(s)).toBe(new TextEncoder().encode(s).length)
    }
  })
})

describe('formatBytes', () => {
  test.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 + 100, '10.1 KiB'],
    [512 * 1024, '512 KiB'],
    [1024 * 1024, '1 MiB'],
    [1.25 * 1024 * 1024, '1.3 MiB'],
  ])('%i -> %s', (n, s) => expect(formatBytes(n)).toBe(s))
  test('invalid input', () => {
    expect(formatBytes(-1)).toBe('—')
    expect(formatBytes(NaN)).toBe('—')
  })
})

import { countLines } from '../../src/lib/bytes.js'
describe('countLines', () => {
  test.each([
    ['', 0],
    ['a', 1],
    ['a\n', 1],
    ['a\nb', 2],
    ['a\n\n', 2],
    ['\n', 1],
  ])('%j -> %i', (t, n) => expect(countLines(t)).toBe(n))
})
