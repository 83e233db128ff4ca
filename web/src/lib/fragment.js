// The URL fragment of a paste page (DESIGN §13): `k=<key>` (encryption key), `f=<file>`
// (a file of the paste), `L10` or `L10-L20` (lines), joined with `&`, in that order when
// written: `#k=…&f=main.rs&L3-L9`. The fragment never reaches the server, which is why the
// key lives there; nothing may move it into a path or a query string.
//
// Pure and total: a malformed fragment, or a malformed part of one, is ignored (never throws).
// Parts this module does not know are kept as they were, so a newer link survives an older app.

/** @typedef {{ start: number, end: number }} LineRange  1-based, start <= end */
/** @typedef {{ key: string|null, file: string|null, lines: LineRange|null, other: string[] }} Fragment */

/** Largest line number accepted (a bigger one is a malformed link, not a line). */
export const MAX_LINE = 10_000_000

const LINES = /^L([1-9][0-9]{0,7})(?:-L?([1-9][0-9]{0,7}))?$/

/** An empty fragment. */
export function emptyFragment() {
  return { key: null, file: null, lines: null, other: [] }
}

function decode(value) {
  try {
    return decodeURIComponent(value)
  } catch {
    return null
  }
}

/** Parses the line part of a fragment (`L10`, `L10-L20`, also `L20-L10` and `L10-20`), or null. */
export function parseLines(part) {
  const m = LINES.exec(part)
  if (!m) return null
  const a = Number(m[1])
  const b = m[2] === undefined ? a : Number(m[2])
  if (a > MAX_LINE || b > MAX_LINE) return null
  return { start: Math.min(a, b), end: Math.max(a, b) }
}

/**
 * Parses `location.hash` (with or without its leading `#`).
 * @param {unknown} hash
 * @returns {Fragment}
 */
export function parseFragment(hash) {
  const out = emptyFragment()
  if (typeof hash !== 'string') return out
  const text = hash.startsWith('#') ? hash.slice(1) : hash
  if (!text) return out
  for (const part of text.split('&')) {
    if (!part) continue
    if (part.startsWith('k=')) {
      // The key is base64url (or similar) text: kept as written, never decoded twice.
      const key = decode(part.slice(2))
      if (key && out.key === null) out.key = key
      continue
    }
    if (part.startsWith('f=')) {
      const file = decode(part.slice(2))
      if (file && out.file === null) out.file = file
      continue
    }
    const lines = parseLines(part)
    if (lines) {
      if (out.lines === null) out.lines = lines
      continue
    }
    out.other.push(part)
  }
  return out
}

// Characters kept as they are in a fragment part: unreserved plus a few sub-delims that
// are allowed in a fragment (RFC 3986): not `&`, `=`, `#`, `%`.
function encodePart(value) {
  return encodeURIComponent(value).replace(/%(24|2B|2C|2F|3A|3F|40)/g, (m) => decodeURIComponent(m))
}

/** Formats a line range: `L10` or `L10-L20`. */
export function formatLines(lines) {
  if (!lines) return ''
  return lines.start === lines.end ? `L${lines.start}` : `L${lines.start}-L${lines.end}`
}

/**
 * Serializes a fragment to `#…` (or '' when empty), parts in the order k, f, lines, others.
 * @param {Partial<Fragment>} fragment
 */
export function formatFragment(fragment) {
  const f = fragment || {}
  const parts = []
  if (f.key) parts.push(`k=${encodePart(f.key)}`)
  if (f.file) parts.push(`f=${encodePart(f.file)}`)
  if (f.lines) parts.push(formatLines(f.lines))
  for (const o of f.other || []) if (o) parts.push(o)
  return parts.length ? `#${parts.join('&')}` : ''
}

/** The fragment with other lines (or none): keeps the key, the file and unknown parts. */
export function withLines(fragment, lines, file = fragment?.file ?? null) {
  return { ...emptyFragment(), ...fragment, file: file || null, lines: lines || null }
}

/**
 * The selection after a click on line `n`: a plain click selects the line (or clears it when it
 * was the only selected line); with `extend` (Shift), the range from the anchor to `n`.
 * @param {LineRange|null} current
 * @param {number} n
 * @param {{ extend?: boolean, anchor?: number|null }} opts anchor: the line the range grows from
 * @returns {LineRange|null}
 */
export function selectLine(current, n, { extend = false, anchor = null } = {}) {
  if (!Number.isInteger(n) || n < 1) return current
  if (extend && current) {
    const from = anchor ?? current.start
    return { start: Math.min(from, n), end: Math.max(from, n) }
  }
  if (current && current.start === n && current.end === n) return null
  return { start: n, end: n }
}

/** The line range clamped to a text of `count` lines, or null when it starts past the end. */
export function clampLines(lines, count) {
  if (!lines || count < 1 || lines.start > count) return null
  return { start: lines.start, end: Math.min(lines.end, count) }
}
