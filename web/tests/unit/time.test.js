import { describe, expect, test } from 'vitest'
import {
  EXPIRY_OPTIONS,
  allowedExpiryOptions,
  defaultExpiryId,
  expirySeconds,
  expiryText,
  formatDuration,
  relativeTime,
} from '../../src/lib/time.js'

const NOW = Date.parse('2026-11-01T12:00:00Z')
const at = (ms) => new Date(NOW + ms).toISOString()
const S = 1000
const M = 60 * S
const H = 60 * M
const D = 24 * H

describe('relativeTime', () => {
  test.each([
    [0, 'just now'],
    [-30 * S, 'just now'],
    [20 * S, 'in a few seconds'],
    [-50 * S, '1 minute ago'],
    [5 * M, 'in 5 minutes'],
    [-44 * M, '44 minutes ago'],
    [3 * H, 'in 3 hours'],
    [-3 * H - 10 * M, '3 hours ago'],
    [23 * H, 'in 1 day'],
    [6 * D, 'in 6 days'],
    [-30 * D, '1 month ago'],
    [365 * D, 'in 1 year'],
    [-2 * 365 * D, '2 years ago'],
  ])('%i ms -> %s', (ms, text) => expect(relativeTime(at(ms), NOW)).toBe(text))
  test('accepts Date and number', () => {
    expect(relativeTime(new Date(NOW + 2 * H), NOW)).toBe('in 2 hours')
    expect(relativeTime(NOW - 2 * H, NOW)).toBe('2 hours ago')
  })
  test('invalid date gives empty text', () => expect(relativeTime('nope', NOW)).toBe(''))
})

describe('expiryText', () => {
  test('never', () => expect(expiryText(null, NOW)).toBe('never expires'))
  test('future', () => expect(expiryText(at(3 * H), NOW)).toBe('expires in 3 hours'))
  test('past', () => expect(expiryText(at(-10 * M), NOW)).toBe('expired 10 minutes ago'))
})

describe('formatDuration', () => {
  test.each([
    [0, '0 seconds'],
    [1, '1 second'],
    [1.2, '2 seconds'],
    [59, '59 seconds'],
    [60, '1 minute'],
    [61, '2 minutes'],
    [3600, '1 hour'],
    [7200, '2 hours'],
    [86400 * 2, '2 days'],
    ['30', '30 seconds'],
  ])('%s -> %s', (s, t) => expect(formatDuration(s)).toBe(t))
})

describe('expiry choices', () => {
  test('map to expiresIn seconds, never = null', () => {
    expect(EXPIRY_OPTIONS.map((o) => [o.id, o.seconds])).toEqual([
      ['10m', 600],
      ['1h', 3600],
      ['1d', 86400],
      ['1w', 604800],
      ['1mo', 2592000],
      ['1y', 31536000],
      ['never', null],
    ])
    expect(expirySeconds('1h')).toBe(3600)
    expect(expirySeconds('never')).toBeNull()
  })
  test('filtered by server limits', () => {
    const limits = { minExpiresIn: 3600, maxExpiresIn: 30 * 86400, allowNeverExpire: false }
    expect(allowedExpiryOptions(limits).map((o) => o.id)).toEqual(['1h', '1d', '1w', '1mo'])
    expect(allowedExpiryOptions({ ...limits, allowNeverExpire: true }).map((o) => o.id)).toContain('never')
    expect(allowedExpiryOptions(null)).toHaveLength(EXPIRY_OPTIONS.length)
  })
  test('default is 1 week, else the longest finite choice', () => {
    expect(defaultExpiryId(allowedExpiryOptions(null))).toBe('1w')
    const short = allowedExpiryOptions({ minExpiresIn: 60, maxExpiresIn: 86400, allowNeverExpire: true })
    expect(defaultExpiryId(short)).toBe('1d')
    expect(defaultExpiryId([{ id: 'never', seconds: null }])).toBe('never')
    expect(defaultExpiryId([])).toBeNull()
  })
})
