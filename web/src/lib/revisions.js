// The difference between two revisions of a paste, file by file, for the history page. The
// line diff itself is jsdiff's (`diff`); this module pairs the files (by name, then a renamed
// file by its unchanged text) and numbers the lines. Pure.
import { diffLines } from 'diff'

/** @typedef {{ name: string, content: string }} RevFile */
/** @typedef {{ kind: ' '|'+'|'-', text: string, old: number|null, new: number|null }} DiffLine */

function splitLines(value) {
  const lines = value.split('\n')
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop()
  return lines
}

/** The lines of a diff of two texts, each marked ' ', '+' or '-' and numbered in its side. */
export function diffText(before, after) {
  const out = []
  let o = 1
  let n = 1
  for (const part of diffLines(before ?? '', after ?? '')) {
    for (const text of splitLines(part.value)) {
      if (part.added) out.push({ kind: '+', text, old: null, new: n++ })
      else if (part.removed) out.push({ kind: '-', text, old: o++, new: null })
      else out.push({ kind: ' ', text, old: o++, new: n++ })
    }
  }
  return out
}

/**
 * Pairs the files of two revisions and diffs each pair.
 * @param {RevFile[]} before
 * @param {RevFile[]} after
 * @returns {{ name: string, from: string|null, status: 'added'|'removed'|'modified'|'renamed'|'unchanged',
 *             lines: DiffLine[], added: number, removed: number }[]}
 */
export function diffRevisions(before, after) {
  const olds = [...(before || [])]
  const used = new Set()
  const out = []
  const pending = []
  for (const f of after || []) {
    const i = olds.findIndex((o, j) => !used.has(j) && o.name === f.name)
    if (i >= 0) {
      used.add(i)
      out.push(entry(f.name, olds[i], f))
    } else {
      pending.push(f)
    }
  }
  for (const f of pending) {
    const i = olds.findIndex((o, j) => !used.has(j) && o.content === f.content)
    if (i >= 0) {
      used.add(i)
      out.push({ ...entry(f.name, olds[i], f), status: 'renamed', from: olds[i].name })
    } else {
      out.push(entry(f.name, null, f))
    }
  }
  olds.forEach((o, j) => {
    if (!used.has(j)) out.push(entry(o.name, o, null))
  })
  return out
}

function entry(name, old, now) {
  const lines = diffText(old?.content ?? '', now?.content ?? '')
  const added = lines.filter((l) => l.kind === '+').length
  const removed = lines.filter((l) => l.kind === '-').length
  const status = !old ? 'added' : !now ? 'removed' : added || removed ? 'modified' : 'unchanged'
  return { name, from: null, status, lines, added, removed }
}
