// The GraphQL playground (playground.html, served on GET /graphql) is a build of its own:
// its chunk graph shares nothing with the app's, so GraphiQL's use of graphql-js or React
// cannot move a byte into the app's chunks. It writes into the same dist/ after the app.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    sourcemap: false,
    // Served under the same strict CSP: no inline assets.
    assetsInlineLimit: 0,
    // GraphiQL is one big chunk by nature; it is loaded only on /graphql.
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      input: { playground: fileURLToPath(new URL('playground.html', import.meta.url)) },
      // GraphiQL's dependencies mark modules "use client" (React Server Components): meaningless here.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return
        warn(warning)
      },
    },
  },
})
