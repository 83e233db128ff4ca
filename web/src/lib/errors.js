// Maps whatever a request failed with (an ApolloError, a GraphQL error array, a network
// error, an HTTP status) to one user-facing state. Pure: no Vue, no Apollo imports.
import { formatBytes } from './bytes.js'
import { formatDuration } from './time.js'

export const CODES = Object.freeze([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
])

const STATUS_CODES = {
  400: 'BAD_USER_INPUT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
}

function toSeconds(v) {
  if (v == null || v === '') return null
  const n = Number(v)
  if (Number.isFinite(n) && n >= 0) return Math.ceil(n)
  const date = Date.parse(String(v)) // Retry-After may be an HTTP date
  if (Number.isFinite(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000))
  return null
}

function firstCoded(errors) {
  if (!Array.isArray(errors)) return null
  return errors.find((e) => e && e.extensions && e.extensions.code) || errors[0] || null
}

function headerOf(response, name) {
  try {
    return response?.headers?.get?.(name) ?? null
  } catch {
    return null
  }
}

/**
 * Extracts { code, serverMessage, retryAfter } from an error of any shape we may meet.
 * code is one of CODES, or 'NETWORK' (no answer), or 'UNKNOWN'.
 */
export function errorCode(error) {
  if (!error) return { code: 'UNKNOWN', serverMessage: '', retryAfter: null }
  // graphql-ws / raw results: an array of GraphQL errors
  const gqlErrors = Array.isArray(error)
    ? error
    : error.graphQLErrors?.length
      ? error.graphQLErrors
      : error.networkError?.result?.errors || error.result?.errors || (error.extensions ? [error] : null)
  const coded = firstCoded(gqlErrors)
  if (coded) {
    const code = coded.extensions?.code
    return {
      code: CODES.includes(code) ? code : code ? 'UNKNOWN' : 'INTERNAL_SERVER_ERROR',
      serverMessage: coded.message || '',
      retryAfter: toSeconds(coded.extensions?.retryAfter),
    }
  }
  const net = error.networkError || (error.statusCode !== undefined || error instanceof TypeError ? error : null)
  if (net) {
    const status = net.statusCode
    if (status) {
      const code = STATUS_CODES[status] || (status === 502 || status === 504 ? 'NETWORK' : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'UNKNOWN')
      return {
        code,
        serverMessage: typeof net.result === 'string' ? net.result.slice(0, 200) : '',
        retryAfter: toSeconds(headerOf(net.response, 'retry-after')),
      }
    }
    return { code: 'NETWORK', serverMessage: net.message || '', retryAfter: null }
  }
  if (error.protocolErrors?.length) {
    return { code: 'UNKNOWN', serverMessage: error.protocolErrors[0].message || '', retryAfter: null }
  }
  return { code: 'UNKNOWN', serverMessage: error.message || String(error), retryAfter: null }
}

const RETRYABLE = new Set(['rate-limited', 'read-only', 'unavailable'])

/**
 * The "when can I retry" line of an error state, given the seconds left on its
 * retryAfter countdown: "You can try again in 42 seconds." / "You can try again now." /
 * "Try again in a moment." (no retryAfter) / '' (not a retryable state).
 */
export function retryText(state, secondsLeft) {
  if (!state || !RETRYABLE.has(state.kind)) return ''
  if (state.retryAfter == null) return 'Try again in a moment.'
  return secondsLeft > 0 ? `You can try again in ${formatDuration(secondsLeft)}.` : 'You can try again now.'
}

/** Whether a SERVICE_UNAVAILABLE error means the read-only (failover) mode. */
export function isReadOnlyMessage(message) {
  return /read[\s_-]?only/i.test(message || '')
}

/**
 * The user-facing state of an error.
 * @param {unknown} error
 * @param {{ maxBytes?: number }} [ctx]
 * @returns {{ code: string, kind: string, title: string, message: string,
 *             retryAfter: number|null, readOnly: boolean, serverMessage: string }}
 */
export function describeError(error, ctx = {}) {
  const { code, serverMessage, retryAfter } = errorCode(error)
  const base = { code, retryAfter, readOnly: false, serverMessage }
  switch (code) {
    case 'NOT_FOUND':
      return {
        ...base,
        kind: 'not-found',
        title: 'Paste not found',
        message: 'It may have expired, been deleted or burned after reading — or it is private.',
      }
    case 'CONFLICT':
      return {
        ...base,
        kind: 'conflict',
        title: 'Changed meanwhile',
        message: 'Someone saved a newer revision of this paste while you were editing. Reload it, then make your change again.',
      }
    case 'PAYLOAD_TOO_LARGE':
      return {
        ...base,
        kind: 'too-large',
        title: 'Too large',
        message: ctx.maxBytes
          ? `The paste is larger than the server accepts (${formatBytes(ctx.maxBytes)}).`
          : 'The paste is larger than the server accepts.',
      }
    case 'RATE_LIMITED':
      return { ...base, kind: 'rate-limited', title: 'Slow down', message: 'Too many requests from this address.' }
    case 'SERVICE_UNAVAILABLE':
      if (isReadOnlyMessage(serverMessage)) {
        return {
          ...base,
          readOnly: true,
          kind: 'read-only',
          title: 'Read-only mode',
          message: 'The server is in read-only mode: pastes can be read, but creating and deleting is paused.',
        }
      }
      return { ...base, kind: 'unavailable', title: 'Service unavailable', message: 'The server is busy or restarting.' }
    case 'UNAUTHENTICATED':
      return {
        ...base,
        kind: 'unauthenticated',
        title: 'Sign-in needed',
        message: serverMessage || 'Your session has expired. Please sign in again.',
      }
    case 'FORBIDDEN':
      return { ...base, kind: 'forbidden', title: 'Not allowed', message: serverMessage || 'You are not allowed to do that.' }
    case 'BAD_USER_INPUT':
      return { ...base, kind: 'bad-input', title: 'Please check your input', message: serverMessage || 'The server did not accept the input.' }
    case 'INTERNAL_SERVER_ERROR':
      return {
        ...base,
        kind: 'server-error',
        title: 'Something went wrong',
        message: 'The server hit an error. Please try again; if it keeps happening, tell the operator.',
      }
    case 'NETWORK':
      return {
        ...base,
        kind: 'network',
        title: "Can't reach the server",
        message: 'Check your connection — the server may be restarting. Then try again.',
      }
    default:
      return { ...base, kind: 'unknown', title: 'Unexpected error', message: serverMessage || 'Something unexpected happened.' }
  }
}
