#!/usr/bin/env node
// Runs after `vite build`: writes `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip,
// level 9) beside every text file of dist/ that compresses, so the server sends the one the
// browser accepts as it is (tower-http ServeDir::precompressed_br/gzip; no compression per
// request). A copy that would not be smaller than the file is not written.
import { readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, extname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist')
const TEXT = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.json', '.txt', '.map', '.xml', '.webmanifest'])
/** Below this size the headers cost more than the bytes saved. */
const MIN_BYTES = 512

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* walk(path)
    else yield path
  }
}

let raw = 0
let br = 0
let gz = 0
let count = 0
for (const path of [...walk(dist)]) {
  if (path.endsWith('.br') || path.endsWith('.gz')) {
    unlinkSync(path) // left from an earlier build (vite empties dist/, but be safe)
    continue
  }
  if (!TEXT.has(extname(path))) continue
  const body = readFileSync(path)
  if (body.length < MIN_BYTES) continue
  const b = brotliCompressSync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    },
  })
  const g = gzipSync(body, { level: 9 })
  if (b.length < body.length) writeFileSync(`${path}.br`, b)
  if (g.length < body.length) writeFileSync(`${path}.gz`, g)
  raw += body.length
  br += Math.min(b.length, body.length)
  gz += Math.min(g.length, body.length)
  count += 1
  if (process.env.COMPRESS_VERBOSE) console.log(`${relative(dist, path)}: ${body.length} -> br ${b.length}, gz ${g.length}`)
}
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`
console.log(`compress-dist: ${count} files, ${kb(raw)} -> brotli ${kb(br)}, gzip ${kb(gz)}`)
