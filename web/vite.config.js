import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The API server (`pastebin serve`) for the dev server's proxy.
const api = process.env.PASTEBIN_API || 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [vue()],
  server: {
    host: '127.0.0.1',
    port: 5173,
    fs: {
      // graphql/operations/*.graphql live outside web/
      allow: [fileURLToPath(new URL('.', import.meta.url)), fileURLToPath(new URL('../graphql/operations', import.meta.url))],
    },
    proxy: {
      // POST only: GET /graphql is the playground page (playground.html here).
      '/graphql': { target: api, ws: true, bypass: (req) => (req.method === 'GET' && !req.headers.upgrade ? '/playground.html' : undefined) },
      '/raw': { target: api },
    },
  },
  preview: {
    proxy: {
      '/graphql': { target: api, ws: true },
      '/raw': { target: api },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The server sends a strict CSP (script-src 'self'): no inline scripts, no eval.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 250,
    rolldownOptions: {
      output: {
        // Libraries in their own long-lived chunks (they change less often than the app).
        // highlight.js is not listed: its core is in the lazily loaded highlighter chunk and each
        // grammar in a chunk of its own, fetched for the language shown.
        codeSplitting: {
          groups: [
            { name: 'vue', test: /node_modules[\\/](@vue[\\/](?!apollo)|vue[\\/]|vue-router[\\/])/ },
            {
              name: 'apollo',
              test: /node_modules[\\/](@apollo|@vue[\\/]apollo-composable|graphql|graphql-ws|@wry|optimism|zen-observable|ts-invariant|tslib|symbol-observable|vue-demi|throttle-debounce|rehackt)[\\/]/,
            },
          ],
        },
      },
    },
  },
})
