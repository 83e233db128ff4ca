import { describe, expect, it } from 'vitest'
import { returnTarget, signInLocation, splitHash } from '../../src/lib/return-to.js'

describe('sign-in return', () => {
  it('keeps the fragment out of the query string', () => {
    expect(signInLocation('/p/abc#k=SECRET&L3')).toEqual({ name: 'login', query: { next: '/p/abc' }, hash: '#k=SECRET&L3' })
    expect(signInLocation('/me')).toEqual({ name: 'login', query: { next: '/me' } })
    expect(signInLocation('/p/a?x=1#L2', 'register')).toEqual({ name: 'register', query: { next: '/p/a?x=1' }, hash: '#L2' })
  })

  it('comes back with the fragment', () => {
    expect(returnTarget('/p/abc', '#k=SECRET&L3', '/me')).toBe('/p/abc#k=SECRET&L3')
    expect(returnTarget('/p/abc', '', '/me')).toBe('/p/abc')
    expect(returnTarget(undefined, '', '/me')).toBe('/me')
  })

  it('never leaves the site', () => {
    for (const bad of ['//evil.example/x', 'https://evil.example', '/\\evil.example', ['/a'], 42, null]) {
      expect(returnTarget(bad, '', '/me')).toBe('/me')
    }
  })

  it('splits paths', () => {
    expect(splitHash('/p/a#b#c')).toEqual({ path: '/p/a', hash: '#b#c' })
    expect(splitHash(null)).toEqual({ path: '', hash: '' })
  })
})
