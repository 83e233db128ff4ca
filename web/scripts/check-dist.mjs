#!/usr/bin/env node
// Runs after `vite build`: the server sends a strict Content-Security-Policy (the app's, and
// the playground's, which is as strict)
// (script-src 'self'; style-src 'self'; no 'unsafe-inline', no 'unsafe-eval'), so the
// built app must have no inline <script>, no <style> elements or style="" attributes in
// its HTML, no eval / new Function in its scripts, and nothing loaded from another origin.
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist')
const problems = []
// Every page: the app (index.html) and the GraphQL playground (playground.html).
const pages = readdirSync(dist).filter((f) => f.endsWith('.html'))
for (const required of ['index.html', 'playground.html']) {
  if (!pages.includes(required)) problems.push(`${required}: missing from dist/`)
}
for (const page of pages) {
  const html = readFileSync(join(dist, page), 'utf8')
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (!/\bsrc=/.test(m[1]) || m[2].trim()) problems.push(`${page}: inline script: ${m[0].slice(0, 80)}`)
  }
  if (/<style\b/i.test(html)) problems.push(`${page}: <style> element`)
  if (/\sstyle=/i.test(html)) problems.push(`${page}: style="" attribute`)
  if (/\son[a-z]+=/i.test(html)) problems.push(`${page}: inline event handler`)
  for (const m of html.matchAll(/\b(?:src|href)="([^"]+)"/g)) {
    if (/^(https?:)?\/\//i.test(m[1])) problems.push(`${page}: loads from another origin: ${m[1]}`)
  }
}

const assets = join(dist, 'assets')
for (const f of readdirSync(assets)) {
  if (f.endsWith('.br') || f.endsWith('.gz')) continue // precompressed copies (compress-dist.mjs)
  const text = readFileSync(join(assets, f), 'utf8')
  if (f.endsWith('.js')) {
    if (/\beval\s*\(/.test(text)) problems.push(`${f}: eval(`)
    if (/\bnew Function\s*\(/.test(text)) problems.push(`${f}: new Function(`)
  }
  if (f.endsWith('.css') && /@import\s+url\(\s*['"]?https?:/i.test(text)) problems.push(`${f}: remote @import`)
  if (/url\(\s*['"]?https?:\/\//i.test(text)) problems.push(`${f}: remote url()`)
}

if (problems.length) {
  for (const p of problems) console.error(`error: ${p}`)
  console.error(`check-dist: ${problems.length} problem(s) with the strict CSP`)
  process.exit(1)
}
console.log('check-dist: dist/ fits the strict CSP (no inline script/style, no eval, no remote assets)')
