// App-wide server status: read-only mode (failover) and being offline.
import { ref } from 'vue'

/** Seconds left until the next write is worth trying; null = not in read-only mode. */
export const readOnlyUntil = ref(null) // epoch ms
export const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine !== false)

let timer = null
export function markReadOnly(retryAfterSeconds) {
  const secs = retryAfterSeconds == null ? 30 : Math.max(5, retryAfterSeconds)
  readOnlyUntil.value = Date.now() + secs * 1000
  clearTimeout(timer)
  // When the retry time has passed the banner goes; the next refused write brings it back.
  timer = setTimeout(() => (readOnlyUntil.value = null), secs * 1000)
}
export function clearReadOnly() {
  clearTimeout(timer)
  readOnlyUntil.value = null
}

if (typeof window !== 'undefined') {
  window.addEventListener('online', () => (online.value = true))
  window.addEventListener('offline', () => (online.value = false))
}
