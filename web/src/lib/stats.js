// Views per hour, for the paste page's chart and the sparklines of "My pastes". Pure: times
// are milliseconds since the epoch, hours are aligned to UTC hours (as the server buckets them).

export const HOUR = 3_600_000
/** The chart's window: a week of hours at most (one pasteStats call; the server allows 62 days). */
export const CHART_HOURS = 168
/** The sparkline's window. */
export const SPARK_HOURS = 48

export const floorHour = (ms) => Math.floor(ms / HOUR) * HOUR

/**
 * The hours to ask for: from the paste's creation (or `hours` back, whichever is later) to
 * the end of the current hour. `coversLifetime`: every view of the paste falls in it.
 * @returns {{ from: number, to: number, coversLifetime: boolean }}
 */
export function statsRange(createdAt, now, hours = CHART_HOURS) {
  const current = floorHour(now)
  const created = Number.isFinite(Date.parse(createdAt)) ? floorHour(Date.parse(createdAt)) : current
  const earliest = current - (hours - 1) * HOUR
  const from = Math.min(current, Math.max(created, earliest))
  return { from, to: current + HOUR, coversLifetime: created >= earliest }
}

/**
 * One bucket per hour from `from` to `to` (exclusive), zero where the server left the hour out.
 * @param {{ hour: string, views: number }[]} stats
 * @returns {{ hour: number, views: number }[]}
 */
export function hourlySeries(stats, from, to) {
  const byHour = new Map()
  for (const s of stats || []) {
    const t = Date.parse(s?.hour)
    const v = Number(s?.views)
    if (!Number.isFinite(t) || !Number.isFinite(v) || v < 0) continue
    const h = floorHour(t)
    byHour.set(h, (byHour.get(h) || 0) + v)
  }
  const out = []
  for (let h = floorHour(from); h < to; h += HOUR) out.push({ hour: h, views: byHour.get(h) || 0 })
  return out
}

export const totalViews = (series) => series.reduce((n, b) => n + b.views, 0)

/**
 * Adds `count` views at time `at` (a live update): to its hour's bucket, after appending the
 * hours that passed since the last bucket (the oldest dropped to keep at most `maxHours`).
 */
export function addViews(series, count, at, maxHours = CHART_HOURS) {
  if (!(count > 0)) return series
  const h = floorHour(at)
  let out = series.slice()
  const last = out.length ? out[out.length - 1].hour : h - HOUR
  for (let t = last + HOUR; t <= h; t += HOUR) out.push({ hour: t, views: 0 })
  if (out.length > maxHours) out = out.slice(out.length - maxHours)
  const i = out.findIndex((b) => b.hour === h)
  if (i >= 0) out[i] = { hour: h, views: out[i].views + count }
  return out
}

/**
 * Follows the live total (pasteViews): views above `known` are added to the current hour.
 * Returns the new series and the new known total. `known` starts as the series' total when
 * it covers the paste's lifetime, else as the first live total.
 */
export function followLive(series, known, live, at, maxHours = CHART_HOURS) {
  if (!Number.isFinite(live)) return { series, known }
  if (known === null || known === undefined) return { series, known: live }
  if (live <= known) return { series, known }
  return { series: addViews(series, live - known, at, maxHours), known: live }
}

/**
 * An SVG polyline's points for a sparkline of `values` in a width × height box (a flat line
 * at the bottom when all are zero).
 */
export function sparklinePoints(values, width, height, pad = 1) {
  const n = values.length
  if (n === 0) return ''
  const max = Math.max(...values, 0)
  const x = (i) => (n === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (n - 1))
  const y = (v) => (max === 0 ? height - pad : height - pad - (v / max) * (height - 2 * pad))
  return values.map((v, i) => `${round(x(i))},${round(y(v))}`).join(' ')
}
const round = (n) => Math.round(n * 10) / 10

/** "3 views in the last 48 hours, most in one hour: 2" — the text a sparkline stands for. */
export function describeSeries(series, hoursLabel) {
  const total = totalViews(series)
  const peak = series.reduce((m, b) => Math.max(m, b.views), 0)
  const views = `${total} ${total === 1 ? 'view' : 'views'}`
  return total === 0 ? `No views ${hoursLabel}` : `${views} ${hoursLabel}, at most ${peak} in one hour`
}
