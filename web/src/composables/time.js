import { onBeforeUnmount, onMounted, ref, watch, computed } from 'vue'

/** A ref holding Date.now(), refreshed every `intervalMs` while the component lives. */
export function useNow(intervalMs = 30_000) {
  const now = ref(Date.now())
  let t = null
  onMounted(() => {
    t = setInterval(() => (now.value = Date.now()), intervalMs)
  })
  onBeforeUnmount(() => clearInterval(t))
  return now
}

/**
 * Counts down the `retryAfter` seconds of an error descriptor (or a plain number of
 * seconds), given as a ref or getter; restarts whenever a new value arrives.
 * Returns a ref of the whole seconds left (0 when done or unset).
 */
export function useCountdown(source) {
  const left = ref(0)
  let until = 0
  let t = null
  const tick = () => {
    left.value = Math.max(0, Math.ceil((until - Date.now()) / 1000))
    if (left.value === 0) clearInterval(t)
  }
  const get = typeof source === 'function' ? source : () => source.value
  watch(
    get,
    (value) => {
      const secs = typeof value === 'number' ? value : value?.retryAfter
      clearInterval(t)
      if (secs == null || secs <= 0) {
        left.value = 0
        return
      }
      until = Date.now() + secs * 1000
      tick()
      t = setInterval(tick, 1000)
    },
    { immediate: true },
  )
  onBeforeUnmount(() => clearInterval(t))
  return computed(() => left.value)
}
