import { createApp, h, provide } from 'vue'
import { DefaultApolloClient } from '@vue/apollo-composable'
import App from './App.vue'
import { apolloClient } from './apollo.js'
import { router } from './router.js'
import { restoreHash } from './lib/return-to.js'
import './styles.css'

// vue-router rewrites the URL on the first navigation with its own encoding of the hash
// (decoded, then encodeURI'd): put the fragment back as it was written (DESIGN §13).
const initialHash = window.location.hash
router.isReady().then(() => restoreHash(initialHash))

createApp({
  setup() {
    provide(DefaultApolloClient, apolloClient)
  },
  render: () => h(App),
})
  .use(router)
  .mount('#app')
