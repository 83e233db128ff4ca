// Hand-over from the editor to the paste page, in memory only: the delete token is
// shown once (a reload does not bring it back), and the page shows the text the author
// just wrote instead of reading it, which would count a view (and burn a
// burn-after-reading paste, or use up a maxViews paste).
const created = new Map()

/** @param {string} id @param {{ deleteToken: string|null, content: string, paste: object }} info */
export function rememberCreated(id, info) {
  created.set(id, info)
}

/** Returns and forgets what the editor left for this paste. */
export function takeCreated(id) {
  const info = created.get(id) ?? null
  created.delete(id)
  return info
}
