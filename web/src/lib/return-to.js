// Where sign-in sends the visitor back to. The path (and query) travels in `?next=`, the
// fragment stays a fragment: `/login?next=/p/abc#k=…&L3` — it may hold an encryption key,
// which must never reach a query string (DESIGN §13: the server would see and log it).

/** Splits "/p/abc?x=1#k=…" into its path-and-query and its fragment ('' or '#…'). */
export function splitHash(fullPath) {
  const s = typeof fullPath === 'string' ? fullPath : ''
  const i = s.indexOf('#')
  return i < 0 ? { path: s, hash: '' } : { path: s.slice(0, i), hash: s.slice(i) }
}

/** A router location for the sign-in page (or `name`) that comes back to `fullPath`. */
export function signInLocation(fullPath, name = 'login') {
  const { path, hash } = splitHash(fullPath)
  return hash ? { name, query: { next: path }, hash } : { name, query: { next: path } }
}

/**
 * Where to go after signing in: `next` when it is a path on this site (never another
 * origin), with the fragment the sign-in page carried; else the fallback.
 */
export function returnTarget(next, hash, fallback) {
  const safe = typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\')
  const { path, hash: ownHash } = splitHash(safe ? next : fallback)
  const h = typeof hash === 'string' && hash.startsWith('#') && hash.length > 1 ? hash : ownHash
  return path + h
}

/**
 * Navigates with vue-router, then puts back the fragment exactly as written. (vue-router
 * decodes a hash and re-encodes it with encodeURI, which turns `%26` into `&` and so would
 * split a file name in two; the fragment is ours, so we write it ourselves.)
 * @param {import('vue-router').Router} router
 * @param {string|object} location without a hash
 * @param {string} hash '' or '#…', as in location.hash
 */
export async function navigateKeepingHash(router, location, hash, { replace = true } = {}) {
  await (replace ? router.replace(location) : router.push(location))
  restoreHash(hash)
}

/**
 * Goes to the sign-in page (or `name`) from the current page, coming back to it afterwards with
 * its fragment exactly as written (read from the address bar, not from the router's copy).
 */
export function goToSignIn(router, name = 'login') {
  const { pathname, search, hash } = window.location
  return navigateKeepingHash(router, { name, query: { next: pathname + search } }, hash, { replace: false })
}

/** Writes `hash` into the current URL (same history entry) and tells the page. */
export function restoreHash(hash) {
  if (typeof window === 'undefined' || !hash || hash === '#' || window.location.hash === hash) return
  const { pathname, search } = window.location
  window.history.replaceState(window.history.state, '', pathname + search + hash)
  window.dispatchEvent(new HashChangeEvent('hashchange'))
}
