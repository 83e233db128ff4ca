// Relative times and the expiry choices of the editor.

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'always' })

function toMs(date) {
  if (date instanceof Date) return date.getTime()
  if (typeof date === 'number') return date
  return Date.parse(date)
}

/**
 * "in 3 hours", "5 minutes ago", "just now". Rounds to the nearest unit; switches
 * units at 45 s, 45 min, 22 h, 26 days, 11 months.
 */
export function relativeTime(date, now = Date.now()) {
  const t = toMs(date)
  if (!Number.isFinite(t)) return ''
  const diff = t - toMs(now)
  const abs = Math.abs(diff)
  if (abs < 45 * SECOND) return diff > 0 ? 'in a few seconds' : 'just now'
  const pick = (unit, size) => rtf.format(Math.round(diff / size), unit)
  if (abs < 45 * MINUTE) return pick('minute', MINUTE)
  if (abs < 22 * HOUR) return pick('hour', HOUR)
  if (abs < 26 * DAY) return pick('day', DAY)
  if (abs < 320 * DAY) return pick('month', 30 * DAY)
  return pick('year', 365 * DAY)
}

/** "expires in 3 hours" / "expired 2 minutes ago" / "never expires". */
export function expiryText(expiresAt, now = Date.now()) {
  if (expiresAt == null) return 'never expires'
  const t = toMs(expiresAt)
  if (!Number.isFinite(t)) return ''
  return t > toMs(now) ? `expires ${relativeTime(t, now)}` : `expired ${relativeTime(t, now)}`
}

/** Absolute local date and time, for tooltips: "2026-11-01 14:05". */
export function absoluteTime(date) {
  const t = toMs(date)
  if (!Number.isFinite(t)) return ''
  const d = new Date(t)
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

/** "45 seconds", "1 minute", "3 minutes", "2 hours": for "try again in …". */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.ceil(Number(seconds) || 0))
  const plural = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`
  if (s < 60) return plural(s, 'second')
  if (s < 3600) return plural(Math.ceil(s / 60), 'minute')
  if (s < 86400) return plural(Math.ceil(s / 3600), 'hour')
  return plural(Math.ceil(s / 86400), 'day')
}

/** The editor's expiry choices: `seconds` is sent as CreatePasteInput.expiresIn (null = never). */
export const EXPIRY_OPTIONS = Object.freeze([
  { id: '10m', label: '10 minutes', seconds: 600 },
  { id: '1h', label: '1 hour', seconds: 3600 },
  { id: '1d', label: '1 day', seconds: 86400 },
  { id: '1w', label: '1 week', seconds: 7 * 86400 },
  { id: '1mo', label: '1 month', seconds: 30 * 86400 },
  { id: '1y', label: '1 year', seconds: 365 * 86400 },
  { id: 'never', label: 'Never', seconds: null },
])

/** The choices the server accepts (limits may be null while loading: then all are shown). */
export function allowedExpiryOptions(limits) {
  if (!limits) return [...EXPIRY_OPTIONS]
  return EXPIRY_OPTIONS.filter((o) =>
    o.seconds === null
      ? limits.allowNeverExpire
      : o.seconds >= limits.minExpiresIn && o.seconds <= limits.maxExpiresIn,
  )
}

/** Default choice: 1 week if allowed, else the longest allowed finite one, else the first. */
export function defaultExpiryId(options) {
  if (options.some((o) => o.id === '1w')) return '1w'
  const finite = options.filter((o) => o.seconds !== null)
  if (finite.length) return finite[finite.length - 1].id
  return options[0]?.id ?? null
}

export function expirySeconds(id) {
  const o = EXPIRY_OPTIONS.find((x) => x.id === id)
  return o ? o.seconds : null
}
