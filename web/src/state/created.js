// Hand-over from the editor to the paste page, in memory only: the delete token is
// shown once (a reload does not bring it back), and the page shows the text the author
// just wrote instead of reading it, which would count a view (and burn a
// burn-after-reading paste, or use up a maxViews paste).
const created = new Map()
// Delete tokens of anonymous pastes made (or forked) in this tab, so that their author can
// edit them without typing the token again. Memory only, like the hand-over.
const tokens = new Map()

/**
 * @param {string} id
 * @param {{ deleteToken: string|null, content: string, files?: {name: string, content: string, language?: string|null}[]|null, paste: object }} info
 */
export function rememberCreated(id, info) {
  created.set(id, info)
  if (info.deleteToken) tokens.set(id, info.deleteToken)
}

/** Returns and forgets what the editor left for this paste. */
export function takeCreated(id) {
  const info = created.get(id) ?? null
  created.delete(id)
  return info
}

/** The delete token of a paste made in this tab, if any. */
export function tokenFor(id) {
  return tokens.get(id) ?? null
}
