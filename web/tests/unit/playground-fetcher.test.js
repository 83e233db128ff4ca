import { readFileSync } from 'node:fs'
import { buildSchema, parse, validate } from 'graphql'
import { describe, expect, it } from 'vitest'
import { authHeaders, defaultQuery, sessionToken, subscriptionUrl } from '../../src/playground/fetcher.js'
import { AUTH_KEY } from '../../src/lib/auth-storage.js'

function storageWith(value) {
  const m = new Map(value === undefined ? [] : [[AUTH_KEY, value]])
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k) }
}

describe('playground transport', () => {
  it('uses the web app session token when there is a valid one', () => {
    const session = { token: 'tok', expiresAt: new Date(Date.now() + 60_000).toISOString(), user: { id: '1', username: 'ann' } }
    expect(sessionToken(storageWith(JSON.stringify(session)))).toBe('tok')
    expect(authHeaders('tok')).toEqual({ Authorization: 'Bearer tok' })
  })

  it('is anonymous without a session, with an expired or a malformed one', () => {
    const expired = { token: 'old', expiresAt: new Date(Date.now() - 1000).toISOString(), user: { id: '1', username: 'ann' } }
    expect(sessionToken(storageWith(undefined))).toBeNull()
    expect(sessionToken(storageWith(JSON.stringify(expired)))).toBeNull()
    expect(sessionToken(storageWith('{not json'))).toBeNull()
    expect(authHeaders(null)).toEqual({})
  })

  it('opens with an example that is valid against the schema', () => {
    const schema = buildSchema(readFileSync(new URL('../../../graphql/schema.graphql', import.meta.url), 'utf8'))
    for (const signedIn of [true, false]) expect(validate(schema, parse(defaultQuery(signedIn)))).toEqual([])
  })

  it('subscribes on this origin, wss under https', () => {
    expect(subscriptionUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/graphql/ws')
    expect(subscriptionUrl({ protocol: 'https:', host: 'paste.example' })).toBe('wss://paste.example/graphql/ws')
  })
})
