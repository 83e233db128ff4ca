// Sign-in with the identity provider leaves the app for the provider and comes back to
// /signin/oidc. Where to return to (path, query and fragment: the fragment may hold a paste's
// key) waits in sessionStorage meanwhile: never in a URL, so neither the provider nor our
// server sees it (DESIGN §13).
const KEY = 'pastebin.sso.return'

function storage() {
  try {
    return window.sessionStorage
  } catch {
    return null
  }
}

/** Remembers `target` (a path on this site, with its fragment) and goes to `startUrl`. */
export function startSso(startUrl, target) {
  storage()?.setItem(KEY, target)
  window.location.assign(startUrl)
}

/** The remembered target, once (null when none). */
export function takeSsoReturn() {
  const s = storage()
  const v = s?.getItem(KEY) ?? null
  s?.removeItem(KEY)
  return v
}
