// Tab handling of the editor textarea, as pure edits.
// An edit replaces value[from, to) with text and then selects [selectionStart, selectionEnd).

export const INDENT = '    '

function lineStart(value, pos) {
  return value.lastIndexOf('\n', pos - 1) + 1
}

/**
 * Tab / Shift+Tab on a textarea's value and selection.
 * - no selection, Tab: spaces up to the next multiple of INDENT.length columns;
 * - selection within one line, Tab: replaces it with one indent;
 * - selection over several lines (or Shift+Tab): indents / outdents every touched line.
 * Returns null when nothing changes (Shift+Tab with nothing to outdent).
 */
export function tabEdit(value, start, end, shift = false) {
  const width = INDENT.length
  const multiLine = value.slice(start, end).includes('\n')
  if (!shift && !multiLine) {
    if (start === end) {
      const col = start - lineStart(value, start)
      const n = width - (col % width)
      const text = ' '.repeat(n)
      return { from: start, to: end, text, selectionStart: start + n, selectionEnd: start + n }
    }
    return { from: start, to: end, text: INDENT, selectionStart: start + width, selectionEnd: start + width }
  }
  // Block (de)indent of the lines touched by the selection. A selection ending right at
  // the start of a line does not touch that line.
  const from = lineStart(value, start)
  const lastEnd = end > start && value[end - 1] === '\n' ? end - 1 : end
  let to = value.indexOf('\n', lastEnd)
  if (to === -1) to = value.length
  const lines = value.slice(from, to).split('\n')
  let firstDelta = 0
  let total = 0
  const out = lines.map((line, i) => {
    if (!shift) {
      if (i === 0) firstDelta = width
      total += width
      return INDENT + line
    }
    const m = /^ {1,4}|^\t/.exec(line)
    const cut = m ? m[0].length : 0
    if (i === 0) firstDelta = -cut
    total -= cut
    return line.slice(cut)
  })
  if (total === 0) return null
  const text = out.join('\n')
  const selectionStart = Math.max(from, start + firstDelta)
  const selectionEnd = start === end ? selectionStart : Math.max(selectionStart, end + total)
  return { from, to, text, selectionStart, selectionEnd }
}
