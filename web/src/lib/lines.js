// Splits highlight.js HTML into lines so that each line is balanced HTML: spans that
// cross a newline (block comments, strings) are closed at the end of the line and
// reopened at the start of the next one.

/** @param {string} html escaped HTML made only of text, <span class="..."> and </span> */
export function splitHighlightedLines(html) {
  const lines = []
  const open = [] // stack of opening tags
  let current = ''
  const re = /(<span[^>]*>)|(<\/span>)|(\n)|([^<\n]+)/g
  let m
  while ((m = re.exec(html))) {
    if (m[1]) {
      open.push(m[1])
      current += m[1]
    } else if (m[2]) {
      open.pop()
      current += m[2]
    } else if (m[3]) {
      current += '</span>'.repeat(open.length)
      lines.push(current)
      current = open.join('')
    } else {
      current += m[4]
    }
  }
  lines.push(current)
  return lines
}

/** Escapes text for use as HTML (for plain-text pastes). */
export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}
