import { describe, expect, test } from 'vitest'
import { tabEdit } from '../../src/lib/editing.js'

function apply(value, edit) {
  return value.slice(0, edit.from) + edit.text + value.slice(edit.to)
}

describe('tabEdit', () => {
  test('Tab at a caret inserts spaces to the next tab stop', () => {
    const e = tabEdit('ab', 2, 2)
    expect(apply('ab', e)).toBe('ab  ')
    expect([e.selectionStart, e.selectionEnd]).toEqual([4, 4])
    const e2 = tabEdit('x\n', 2, 2)
    expect(apply('x\n', e2)).toBe('x\n    ')
  })
  test('Tab over a selection within a line replaces it with an indent', () => {
    const e = tabEdit('hello', 1, 3)
    expect(apply('hello', e)).toBe('h    lo')
    expect(e.selectionStart).toBe(5)
  })
  test('Tab over several lines indents each touched line', () => {
    const v = 'a\nb\nc'
    const e = tabEdit(v, 0, 3) // "a\nb"
    expect(apply(v, e)).toBe('    a\n    b\nc')
    expect([e.selectionStart, e.selectionEnd]).toEqual([4, 11])
  })
  test('a selection ending at a line start does not touch that line', () => {
    const v = 'a\nb\nc'
    expect(apply(v, tabEdit(v, 0, 2))).toBe('    a\nb\nc')
  })
  test('Shift+Tab outdents', () => {
    const v = '    a\n  b\nc'
    const e = tabEdit(v, 0, v.length, true)
    expect(apply(v, e)).toBe('a\nb\nc')
  })
  test('Shift+Tab at a caret outdents its line', () => {
    const v = 'x\n    y'
    const e = tabEdit(v, 7, 7, true)
    expect(apply(v, e)).toBe('x\ny')
    expect(e.selectionStart).toBe(3)
  })
  test('Shift+Tab with nothing to outdent changes nothing', () => {
    expect(tabEdit('abc', 1, 1, true)).toBeNull()
  })
})
