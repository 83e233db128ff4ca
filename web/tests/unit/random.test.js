import { expect, test } from 'vitest'
import { idempotencyKey } from '../../src/lib/random.js'

test('idempotency keys: 32 hex chars (within 8-64), different each time', () => {
  const a = idempotencyKey()
  expect(a).toMatch(/^[0-9a-f]{32}$/)
  expect(idempotencyKey()).not.toBe(a)
})
