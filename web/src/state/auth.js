// The signed-in session (reactive), kept in localStorage with its expiry.
import { computed, ref } from 'vue'
import { AUTH_KEY, clearSession, loadSession, msUntilExpiry, saveSession } from '../lib/auth-storage.js'

function browserStorage() {
  try {
    return window.localStorage
  } catch {
    const m = new Map()
    return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) }
  }
}

const storage = browserStorage()
const session = ref(loadSession(storage))
/** A one-line note shown after an involuntary sign-out ("Your session expired…"). */
export const authNotice = ref('')
const listeners = new Set()
let timer = null

function notify() {
  for (const fn of listeners) fn(session.value)
}

function scheduleExpiry() {
  clearTimeout(timer)
  if (!session.value) return
  // setTimeout overflows past ~24.8 days: re-check at most daily.
  const ms = Math.min(msUntilExpiry(session.value), 86_400_000)
  timer = setTimeout(() => {
    if (msUntilExpiry(session.value) <= 0) signOut('Your session expired. Please sign in again.')
    else scheduleExpiry()
  }, Math.max(ms, 0) + 250)
}

export const currentUser = computed(() => session.value?.user ?? null)
export const isSignedIn = computed(() => session.value !== null)

/** The bearer token, or null (drops the session if it has expired meanwhile). */
export function authToken() {
  if (session.value && msUntilExpiry(session.value) <= 0) {
    signOut('Your session expired. Please sign in again.')
    return null
  }
  return session.value?.token ?? null
}

/** Stores an AuthPayload from register/login. */
export function signIn(payload) {
  const s = saveSession(storage, payload)
  if (!s) throw new Error('The server returned an unusable session.')
  session.value = s
  authNotice.value = ''
  scheduleExpiry()
  notify()
}

/** Drops the session; `notice` explains an involuntary sign-out. */
export function signOut(notice = '') {
  const had = session.value !== null
  clearSession(storage)
  session.value = null
  clearTimeout(timer)
  if (had) {
    authNotice.value = notice
    notify()
  }
}

/** Called with the new session (or null) whenever it changes. Returns an unsubscribe. */
export function onAuthChange(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

// Other tabs signing in or out.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key !== AUTH_KEY && e.key !== null) return
    const next = loadSession(storage)
    if (next?.token === session.value?.token) return
    session.value = next
    scheduleExpiry()
    notify()
  })
}
scheduleExpiry()
