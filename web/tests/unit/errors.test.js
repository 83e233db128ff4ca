import { describe, expect, test } from 'vitest'
import { describeError, errorCode, isReadOnlyMessage, retryText } from '../../src/lib/errors.js'

const gql = (code, message = 'msg', extra = {}) => ({ graphQLErrors: [{ message, extensions: { code, ...extra } }] })
const headers = (h) => ({ get: (k) => h[k.toLowerCase()] ?? null })

describe('describeError: GraphQL error codes', () => {
  test.each([
    ['NOT_FOUND', 'not-found'],
    ['CONFLICT', 'conflict'],
    ['PAYLOAD_TOO_LARGE', 'too-large'],
    ['RATE_LIMITED', 'rate-limited'],
    ['SERVICE_UNAVAILABLE', 'unavailable'],
    ['UNAUTHENTICATED', 'unauthenticated'],
    ['FORBIDDEN', 'forbidden'],
    ['BAD_USER_INPUT', 'bad-input'],
    ['INTERNAL_SERVER_ERROR', 'server-error'],
  ])('%s -> %s', (code, kind) => {
    const d = describeError(gql(code))
    expect(d.code).toBe(code)
    expect(d.kind).toBe(kind)
    expect(d.title).toBeTruthy()
    expect(d.message).toBeTruthy()
  })

  test('an HTTP 409 is a CONFLICT', () => {
    expect(errorCode({ networkError: { statusCode: 409, result: '' } }).code).toBe('CONFLICT')
  })

  test('unknown code', () => expect(describeError(gql('WEIRD', 'odd')).kind).toBe('unknown'))
  test('error without code is a server error', () => {
    expect(describeError({ graphQLErrors: [{ message: 'boom' }] }).code).toBe('INTERNAL_SERVER_ERROR')
  })

  test('RATE_LIMITED carries retryAfter', () => {
    const d = describeError(gql('RATE_LIMITED', 'slow down', { retryAfter: 42 }))
    expect(d.retryAfter).toBe(42)
    expect(retryText(d, 42)).toBe('You can try again in 42 seconds.')
    expect(retryText(d, 0)).toBe('You can try again now.')
  })
  test('retryText', () => {
    expect(retryText(describeError(gql('SERVICE_UNAVAILABLE', 'down')), 0)).toBe('Try again in a moment.')
    expect(retryText(describeError(gql('SERVICE_UNAVAILABLE', 'read-only', { retryAfter: 90 })), 90)).toBe('You can try again in 2 minutes.')
    expect(retryText(describeError(gql('NOT_FOUND')), 5)).toBe('')
    expect(retryText(null, 0)).toBe('')
  })

  test('read-only SERVICE_UNAVAILABLE', () => {
    const d = describeError(gql('SERVICE_UNAVAILABLE', 'the server is read-only (failover in progress)', { retryAfter: 5 }))
    expect(d.readOnly).toBe(true)
    expect(d.kind).toBe('read-only')
    expect(d.retryAfter).toBe(5)
    expect(describeError(gql('SERVICE_UNAVAILABLE', 'database down')).readOnly).toBe(false)
  })

  test('PAYLOAD_TOO_LARGE names the limit when known', () => {
    expect(describeError(gql('PAYLOAD_TOO_LARGE'), { maxBytes: 512 * 1024 }).message).toContain('512 KiB')
  })

  test('BAD_USER_INPUT and FORBIDDEN show the server message', () => {
    expect(describeError(gql('BAD_USER_INPUT', 'username taken')).message).toBe('username taken')
    expect(describeError(gql('FORBIDDEN', 'wrong delete token')).message).toBe('wrong delete token')
  })

  test('first coded error wins', () => {
    const e = { graphQLErrors: [{ message: 'x' }, { message: 'y', extensions: { code: 'NOT_FOUND' } }] }
    expect(errorCode(e).code).toBe('NOT_FOUND')
  })
})

describe('describeError: other shapes', () => {
  test('an array of GraphQL errors (graphql-ws sink)', () => {
    expect(describeError([{ message: 'gone', extensions: { code: 'NOT_FOUND' } }]).code).toBe('NOT_FOUND')
  })
  test('a single GraphQL error', () => {
    expect(describeError({ message: 'x', extensions: { code: 'FORBIDDEN' } }).code).toBe('FORBIDDEN')
  })
  test('HTTP 413 with a non-GraphQL body is PAYLOAD_TOO_LARGE', () => {
    const e = { networkError: { name: 'ServerError', statusCode: 413, result: 'length limit exceeded', message: 'Response not successful' } }
    const d = describeError(e)
    expect(d.code).toBe('PAYLOAD_TOO_LARGE')
    expect(d.kind).toBe('too-large')
  })
  test('a ServerParseError with 413 (body not JSON)', () => {
    expect(describeError({ networkError: { name: 'ServerParseError', statusCode: 413, message: 'Unexpected token' } }).code).toBe('PAYLOAD_TOO_LARGE')
  })
  test('HTTP 429 takes Retry-After from the response headers', () => {
    const e = { networkError: { statusCode: 429, result: '', response: { headers: headers({ 'retry-after': '7' }) } } }
    const d = describeError(e)
    expect(d.code).toBe('RATE_LIMITED')
    expect(d.retryAfter).toBe(7)
  })
  test('GraphQL errors inside a non-2xx JSON body are used', () => {
    const e = { networkError: { statusCode: 503, result: { errors: [{ message: 'read only', extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 3 } }] } } }
    const d = describeError(e)
    expect(d.readOnly).toBe(true)
    expect(d.retryAfter).toBe(3)
  })
  test('HTTP 502/504 (proxy cannot reach the server) is a network problem', () => {
    expect(describeError({ networkError: { statusCode: 502 } }).code).toBe('NETWORK')
    expect(describeError({ networkError: { statusCode: 500 } }).code).toBe('INTERNAL_SERVER_ERROR')
  })
  test('fetch failure is NETWORK', () => {
    expect(describeError({ networkError: new TypeError('Failed to fetch') }).kind).toBe('network')
    expect(describeError(new TypeError('NetworkError when attempting to fetch resource.')).kind).toBe('network')
  })
  test('plain Error and nothing', () => {
    expect(describeError(new Error('weird')).message).toBe('weird')
    expect(describeError(null).kind).toBe('unknown')
  })
  test('retryAfter as an HTTP date', () => {
    const when = new Date(Date.now() + 10_000).toUTCString()
    const r = errorCode({ networkError: { statusCode: 503, response: { headers: headers({ 'retry-after': when }) } } }).retryAfter
    expect(r).toBeGreaterThanOrEqual(8)
    expect(r).toBeLessThanOrEqual(11)
  })
})

test('isReadOnlyMessage', () => {
  expect(isReadOnlyMessage('Server is in READ-ONLY mode')).toBe(true)
  expect(isReadOnlyMessage('read only')).toBe(true)
  expect(isReadOnlyMessage('readonly replica')).toBe(true)
  expect(isReadOnlyMessage('overloaded')).toBe(false)
  expect(isReadOnlyMessage(undefined)).toBe(false)
})
