import { createRouter, createWebHistory } from 'vue-router'
import { signInLocation } from './lib/return-to.js'
import { isSignedIn } from './state/auth.js'
import NewPaste from './views/NewPaste.vue'

const routes = [
  { path: '/', name: 'new', component: NewPaste, meta: { title: 'New paste' } },
  { path: '/p/:id', name: 'paste', component: () => import('./views/PasteView.vue'), meta: { title: 'Paste' } },
  { path: '/p/:id/edit', name: 'edit', component: () => import('./views/EditPaste.vue'), meta: { title: 'Edit paste' } },
  { path: '/p/:id/history', name: 'history', component: () => import('./views/PasteHistory.vue'), meta: { title: 'History' } },
  { path: '/recent', name: 'recent', component: () => import('./views/RecentPastes.vue'), meta: { title: 'Recent pastes' } },
  { path: '/login', name: 'login', component: () => import('./views/AuthForm.vue'), props: { mode: 'login' }, meta: { title: 'Sign in', guestOnly: true } },
  { path: '/register', name: 'register', component: () => import('./views/AuthForm.vue'), props: { mode: 'register' }, meta: { title: 'Sign up', guestOnly: true } },
  { path: '/me', name: 'me', component: () => import('./views/MyPastes.vue'), meta: { title: 'My pastes', requiresAuth: true } },
  { path: '/settings/tokens', name: 'tokens', component: () => import('./views/SettingsTokens.vue'), meta: { title: 'Access tokens', requiresAuth: true } },
  { path: '/admin', name: 'admin', component: () => import('./views/AdminPage.vue'), meta: { title: 'Moderation', requiresAuth: true } },
  { path: '/signin/oidc', name: 'signin-oidc', component: () => import('./views/SignInComplete.vue'), meta: { title: 'Signing in' } },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('./views/NotFound.vue'), meta: { title: 'Page not found' } },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  // Never `{ el: to.hash }`: the fragment is data (DESIGN §13: `#k=…&L3-L9`), not an element
  // id; the paste page scrolls to linked lines itself.
  scrollBehavior: (to, from, saved) => saved || { top: 0 },
})

router.beforeEach((to) => {
  if (to.meta.requiresAuth && !isSignedIn.value) return signInLocation(to.fullPath)
  if (to.meta.guestOnly && isSignedIn.value) return { name: 'new' }
  return true
})

let first = true
router.afterEach((to) => {
  document.title = `${to.meta.title || 'Paste'} · Pastebin`
  // Move focus to the new page for keyboard and screen-reader users (not on first load).
  if (!first) {
    requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: true }))
  }
  first = false
})
