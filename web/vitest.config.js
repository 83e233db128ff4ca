import { defineConfig } from 'vitest/config'

// Unit tests cover the pure modules (no DOM, no server).
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.js'],
    environment: 'node',
  },
})
