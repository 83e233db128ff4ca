import { describe, expect, it } from 'vitest'
import {
  HOUR,
  addViews,
  describeSeries,
  floorHour,
  followLive,
  hourlySeries,
  sparklinePoints,
  statsRange,
  totalViews,
} from '../../src/lib/stats.js'

const T0 = Date.parse('2026-11-28T10:00:00Z')

describe('statsRange', () => {
  it('starts at the creation hour for a young paste', () => {
    const r = statsRange('2026-11-28T08:20:00Z', T0 + 30 * 60_000)
    expect(r).toEqual({ from: Date.parse('2026-11-28T08:00:00Z'), to: T0 + HOUR, coversLifetime: true })
  })
  it('goes back at most `hours` for an old paste', () => {
    const r = statsRange('2026-01-01T00:00:00Z', T0, 48)
    expect(r.from).toBe(T0 - 47 * HOUR)
    expect(r.to).toBe(T0 + HOUR)
    expect(r.coversLifetime).toBe(false)
  })
  it('survives a bad date and a creation in the future (clock skew)', () => {
    expect(statsRange('nonsense', T0)).toEqual({ from: T0, to: T0 + HOUR, coversLifetime: true })
    expect(statsRange('2026-11-28T12:00:00Z', T0).from).toBe(T0)
  })
})

describe('hourlySeries', () => {
  it('fills the hours the server left out with zeros', () => {
    const s = hourlySeries([{ hour: '2026-11-28T09:00:00Z', views: 3 }], T0 - 2 * HOUR, T0 + HOUR)
    expect(s).toEqual([
      { hour: T0 - 2 * HOUR, views: 0 },
      { hour: T0 - HOUR, views: 3 },
      { hour: T0, views: 0 },
    ])
    expect(totalViews(s)).toBe(3)
  })
  it('ignores malformed rows', () => {
    const s = hourlySeries([null, { hour: 'x', views: 1 }, { hour: '2026-11-28T10:00:00Z', views: -1 }, { hour: '2026-11-28T10:00:00Z', views: 'a' }], T0, T0 + HOUR)
    expect(s).toEqual([{ hour: T0, views: 0 }])
    expect(hourlySeries(undefined, T0, T0 + HOUR)).toEqual([{ hour: T0, views: 0 }])
  })
})

describe('live updates', () => {
  const base = hourlySeries([{ hour: '2026-11-28T10:00:00Z', views: 2 }], T0 - HOUR, T0 + HOUR)
  it('adds new views to the current hour', () => {
    const s = addViews(base, 3, T0 + 10 * 60_000)
    expect(s.map((b) => b.views)).toEqual([0, 5])
    expect(base.map((b) => b.views)).toEqual([0, 2]) // not mutated
  })
  it('opens the hours that passed, keeping at most maxHours', () => {
    const s = addViews(base, 1, T0 + 2 * HOUR + 5, 3)
    expect(s.map((b) => [b.hour, b.views])).toEqual([[T0, 2], [T0 + HOUR, 0], [T0 + 2 * HOUR, 1]])
  })
  it('follows the live total', () => {
    let st = followLive(base, 2, 2, T0)
    expect(st.series).toBe(base)
    st = followLive(st.series, st.known, 4, T0 + 60_000)
    expect(st.known).toBe(4)
    expect(totalViews(st.series)).toBe(4)
    // A total that goes down (a stale event) changes nothing.
    expect(followLive(st.series, 4, 3, T0).series).toBe(st.series)
    // Without a known total, the first live value only sets it.
    expect(followLive(base, null, 9, T0)).toEqual({ series: base, known: 9 })
    expect(followLive(base, 2, NaN, T0)).toEqual({ series: base, known: 2 })
  })
})

describe('sparklines', () => {
  it('scales to the box', () => {
    expect(sparklinePoints([0, 5, 10], 100, 20, 0)).toBe('0,20 50,10 100,0')
    expect(sparklinePoints([0, 0], 10, 10, 1)).toBe('1,9 9,9')
    expect(sparklinePoints([], 10, 10)).toBe('')
    expect(sparklinePoints([3], 10, 10, 1)).toBe('5,1')
  })
  it('says what it shows', () => {
    expect(describeSeries([{ hour: 0, views: 0 }], 'in the last 48 hours')).toBe('No views in the last 48 hours')
    expect(describeSeries([{ hour: 0, views: 1 }, { hour: 1, views: 2 }], 'in the last 48 hours')).toBe('3 views in the last 48 hours, at most 2 in one hour')
  })
  it('floors to hours', () => {
    expect(floorHour(T0 + 59 * 60_000)).toBe(T0)
  })
})
