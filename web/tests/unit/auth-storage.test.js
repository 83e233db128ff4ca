import { describe, expect, test } from 'vitest'
import { AUTH_KEY, clearSession, loadSession, msUntilExpiry, saveSession } from '../../src/lib/auth-storage.js'

function memoryStorage() {
  const m = new Map()
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k), m }
}
const NOW = Date.parse('2026-11-01T12:00:00Z')
const payload = (expiresAt = '2026-11-02T12:00:00Z') => ({ token: 'jwt.abc.def', expiresAt, user: { id: 7, username: 'alice', createdAt: 'x' } })

describe('session storage', () => {
  test('save then load round-trips (id as string, only what is needed)', () => {
    const s = memoryStorage()
    expect(saveSession(s, payload(), NOW)).toEqual({ token: 'jwt.abc.def', expiresAt: '2026-11-02T12:00:00Z', user: { id: '7', username: 'alice' } })
    expect(loadSession(s, NOW)).toEqual({ token: 'jwt.abc.def', expiresAt: '2026-11-02T12:00:00Z', user: { id: '7', username: 'alice' } })
  })
  test('an expired session is dropped on load', () => {
    const s = memoryStorage()
    saveSession(s, payload(), NOW)
    expect(loadSession(s, Date.parse('2026-11-02T12:00:00Z'))).toBeNull()
    expect(s.getItem(AUTH_KEY)).toBeNull()
  })
  test('an already expired payload is not stored', () => {
    const s = memoryStorage()
    expect(saveSession(s, payload('2026-11-01T11:00:00Z'), NOW)).toBeNull()
    expect(s.getItem(AUTH_KEY)).toBeNull()
  })
  test('malformed values are dropped', () => {
    for (const bad of ['{', 'null', '{"token":""}', JSON.stringify({ token: 't', expiresAt: 'not a date', user: { username: 'a' } }), JSON.stringify({ token: 't', expiresAt: '2030-01-01T00:00:00Z' })]) {
      const s = memoryStorage()
      s.setItem(AUTH_KEY, bad)
      expect(loadSession(s, NOW)).toBeNull()
      expect(s.getItem(AUTH_KEY)).toBeNull()
    }
  })
  test('nothing stored', () => expect(loadSession(memoryStorage(), NOW)).toBeNull())
  test('clear', () => {
    const s = memoryStorage()
    saveSession(s, payload(), NOW)
    clearSession(s)
    expect(loadSession(s, NOW)).toBeNull()
  })
  test('a storage that throws (disabled) does not break', () => {
    const broken = { getItem: () => { throw new Error('denied') }, setItem: () => { throw new Error('denied') }, removeItem: () => { throw new Error('denied') } }
    expect(loadSession(broken, NOW)).toBeNull()
    expect(saveSession(broken, payload(), NOW)).not.toBeNull() // still usable in memory
    expect(() => clearSession(broken)).not.toThrow()
  })
  test('msUntilExpiry', () => {
    expect(msUntilExpiry({ expiresAt: '2026-11-01T12:00:10Z' }, NOW)).toBe(10_000)
    expect(msUntilExpiry(null, NOW)).toBe(0)
  })
})
