#!/usr/bin/env node
// `npm run check:ops`: validates the web app's GraphQL operations against the API contract.
//  1. every graphql/operations/*.graphql parses and the whole set validates against
//     graphql/schema.graphql with graphql's validate() (all specified rules);
//  2. each operation, as the app sends it (with only the fragments it uses), validates too;
//  3. every operation the app asks for by name (src/graphql/operations.js) exists;
//  4. no GraphQL is written inline in web/src (gql`...` or parse('...')): it belongs in
//     the .graphql files so this check sees it.
// Exits non-zero on any problem. Paths can be overridden for tests:
//   PASTEBIN_SCHEMA, PASTEBIN_OPERATIONS_DIR.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSchema, parse, validate, GraphQLError } from 'graphql'
import { buildDocuments } from '../src/graphql/documents.js'

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const repo = resolve(web, '..')
const schemaPath = process.env.PASTEBIN_SCHEMA || join(repo, 'graphql/schema.graphql')
const opsDir = process.env.PASTEBIN_OPERATIONS_DIR || join(repo, 'graphql/operations')

const problems = []
const report = (where, msg) => problems.push(`${where}: ${msg}`)
const rel = (p) => relative(process.cwd(), p) || p

let schema
try {
  schema = buildSchema(readFileSync(schemaPath, 'utf8'))
} catch (e) {
  console.error(`${rel(schemaPath)}: cannot build the schema: ${e.message}`)
  process.exit(2)
}

const files = readdirSync(opsDir).filter((f) => f.endsWith('.graphql')).sort()
if (files.length === 0) report(rel(opsDir), 'no .graphql files')

const sources = []
const starts = [] // first line of each file in the concatenated text
let line = 1
for (const f of files) {
  const path = join(opsDir, f)
  const text = readFileSync(path, 'utf8')
  sources.push(text)
  starts.push({ path, line })
  line += text.split('\n').length
  try {
    parse(text)
  } catch (e) {
    report(rel(path), e instanceof GraphQLError ? e.message : String(e))
  }
}

let documents = new Map()
if (problems.length === 0) {
  // Fragments are shared between files, so the files are validated as one document;
  // error locations are mapped back to file:line.
  const whole = parse(sources.join('\n'))
  const where = (err) => {
    const loc = err.locations?.[0]
    if (!loc) return rel(opsDir)
    const file = starts.filter((s) => s.line <= loc.line).pop()
    return `${rel(file.path)}:${loc.line - file.line + 1}:${loc.column}`
  }
  const errors = validate(schema, whole)
  for (const err of errors) report(where(err), err.message)
  try {
    documents = buildDocuments(sources)
  } catch (e) {
    report(rel(opsDir), e.message)
  }
  // Each document exactly as the app sends it (operation + the fragments it uses).
  if (errors.length === 0) {
    for (const [name, doc] of documents) {
      for (const err of validate(schema, doc)) report(`operation ${name}`, err.message)
    }
  }
}

// Operations the app asks for.
const opsModule = join(web, 'src/graphql/operations.js')
const wanted = [...readFileSync(opsModule, 'utf8').matchAll(/\boperation\('([A-Za-z_]\w*)'\)/g)].map((m) => m[1])
if (wanted.length === 0) report(rel(opsModule), 'found no operation(...) calls')
for (const name of wanted) {
  if (!documents.has(name)) report(rel(opsModule), `operation ${name} is not defined in ${rel(opsDir)}`)
}

// No inline GraphQL in the sources.
function* walk(dir) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) yield* walk(p)
    else if (/\.(js|mjs|ts|vue)$/.test(e)) yield p
  }
}
const inline = /\b(gql|graphql)\s*`|\bparse\(\s*['"`]\s*(query|mutation|subscription|fragment|\{)/
for (const file of walk(join(web, 'src'))) {
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (inline.test(line)) report(`${rel(file)}:${i + 1}`, 'inline GraphQL: move it to graphql/operations/*.graphql')
  })
}

if (problems.length) {
  for (const p of problems) console.error(`error: ${p}`)
  console.error(`check:ops: ${problems.length} problem(s)`)
  process.exit(1)
}
console.log(`check:ops: ${files.length} files, ${documents.size} operations valid against ${rel(schemaPath)}`)
