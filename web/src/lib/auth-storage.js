// The session token in localStorage, with its expiry. Pure: storage and clock are injected.

export const AUTH_KEY = 'pastebin.auth'

/** @typedef {{ token: string, expiresAt: string, user: { id: string, username: string } }} Session */

function valid(s) {
  return (
    s &&
    typeof s.token === 'string' &&
    s.token.length > 0 &&
    typeof s.expiresAt === 'string' &&
    Number.isFinite(Date.parse(s.expiresAt)) &&
    s.user &&
    typeof s.user.username === 'string'
  )
}

/** The stored session, or null (and removed) when missing, malformed or expired. */
export function loadSession(storage, now = Date.now()) {
  let raw
  try {
    raw = storage.getItem(AUTH_KEY)
  } catch {
    return null // storage disabled
  }
  if (!raw) return null
  let s
  try {
    s = JSON.parse(raw)
  } catch {
    s = null
  }
  if (!valid(s) || Date.parse(s.expiresAt) <= now) {
    clearSession(storage)
    return null
  }
  return { token: s.token, expiresAt: s.expiresAt, user: { id: String(s.user.id ?? ''), username: s.user.username } }
}

/** Stores an AuthPayload ({token, expiresAt, user}); returns the stored session or null if unusable. */
export function saveSession(storage, payload, now = Date.now()) {
  if (!valid(payload) || Date.parse(payload.expiresAt) <= now) return null
  const s = {
    token: payload.token,
    expiresAt: payload.expiresAt,
    user: { id: String(payload.user.id ?? ''), username: payload.user.username },
  }
  try {
    storage.setItem(AUTH_KEY, JSON.stringify(s))
  } catch {
    // storage full or disabled: the session still lives in memory for this tab
  }
  return s
}

export function clearSession(storage) {
  try {
    storage.removeItem(AUTH_KEY)
  } catch {
    // ignore
  }
}

/** Milliseconds until the session expires (<= 0 when expired). */
export function msUntilExpiry(session, now = Date.now()) {
  return session ? Date.parse(session.expiresAt) - now : 0
}
