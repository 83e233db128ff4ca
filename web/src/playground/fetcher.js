// The playground's transport: POST /graphql for queries and mutations, graphql-ws
// (graphql-transport-ws) on /graphql/ws for subscriptions, both on this origin and both
// carrying the web app's token when the visitor is signed in (read from the same storage).
import { createGraphiQLFetcher } from '@graphiql/toolkit'
import { createClient } from 'graphql-ws'
import { loadSession } from '../lib/auth-storage.js'

/** The bearer token of the web app's session, or null. */
export function sessionToken(storage) {
  return loadSession(storage)?.token ?? null
}

/** ws(s)://host/graphql/ws for this page's location. */
export function subscriptionUrl(loc) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/graphql/ws`
}

/** Headers for HTTP requests: Authorization when signed in. */
export function authHeaders(token) {
  return token ? { Authorization: `Bearer ${token}` } : {}
}

export function createFetcher({ storage, location }) {
  const token = () => sessionToken(storage)
  const wsClient = createClient({
    url: subscriptionUrl(location),
    lazy: true,
    connectionParams: () => authHeaders(token()),
  })
  return createGraphiQLFetcher({
    url: '/graphql',
    wsClient,
    // Read at each request: signing in or out in the app's tab applies here too.
    fetch: (input, init = {}) =>
      fetch(input, { ...init, credentials: 'same-origin', headers: { ...authHeaders(token()), ...(init.headers || {}) } }),
  })
}

/** The example the editor opens with (checked against the schema by a unit test). */
export function defaultQuery(signedIn) {
  return `# Pastebin GraphQL playground.
# ${signedIn ? 'You are signed in to the web app: requests carry its token.' : 'Anonymous: sign in to the web app to send its token.'}
# Ctrl+Enter runs the operation; the Docs button shows the schema.

query Recent {
  recentPastes(first: 5) {
    nodes {
      id
      title
      language
      views
      createdAt
    }
  }
}
`
}
