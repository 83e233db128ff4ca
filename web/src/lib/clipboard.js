// Copy to the clipboard. navigator.clipboard only exists in secure contexts (https or
// localhost); on a plain-http LAN address fall back to a hidden textarea + execCommand.
export async function copyText(text) {
  if (globalThis.isSecureContext && navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text)
      return true
    } catch {
      // permission denied: try the fallback
    }
  }
  const ta = document.createElement('textarea')
  ta.value = text
  ta.setAttribute('readonly', '')
  ta.className = 'visually-hidden'
  document.body.appendChild(ta)
  const focused = document.activeElement
  ta.select()
  let ok = false
  try {
    ok = document.execCommand('copy')
  } catch {
    ok = false
  }
  ta.remove()
  if (focused && typeof focused.focus === 'function') focused.focus()
  return ok
}

/** Offers text as a file download (from memory: re-reading /raw would count a view). */
export function downloadText(text, filename) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }))
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
