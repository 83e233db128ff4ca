// The Apollo client: HTTP for queries and mutations, graphql-ws (graphql-transport-ws)
// for subscriptions, both carrying the bearer token; app-wide reactions to errors.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, from, split } from '@apollo/client/core'
import { BatchHttpLink } from '@apollo/client/link/batch-http'
import { onError } from '@apollo/client/link/error'
import { GraphQLWsLink } from '@apollo/client/link/subscriptions'
import { getMainDefinition } from '@apollo/client/utilities'
import { createClient } from 'graphql-ws'
import { describeError } from './lib/errors.js'
import { authToken, onAuthChange, signOut } from './state/auth.js'
import { clearReadOnly, markReadOnly } from './state/status.js'

export function wsUrl(loc = window.location) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/graphql/ws`
}

export const wsClient = createClient({
  url: wsUrl(),
  lazy: true,
  connectionParams: () => {
    const token = authToken()
    return token ? { Authorization: `Bearer ${token}` } : {}
  },
  // Keep live counters alive across server restarts and failovers.
  retryAttempts: 50,
  shouldRetry: () => true,
})

const authLink = new ApolloLink((operation, forward) => {
  const token = authToken()
  operation.setContext(({ headers = {} }) => ({
    headers: token ? { ...headers, Authorization: `Bearer ${token}` } : headers,
    sentToken: token,
  }))
  return forward(operation)
})

const isMutation = (operation) => {
  const def = getMainDefinition(operation.query)
  return def.kind === 'OperationDefinition' && def.operation === 'mutation'
}

// A write that went through means the server is writable again.
const writableLink = new ApolloLink((operation, forward) =>
  forward(operation).map((result) => {
    if (isMutation(operation) && !result.errors?.length) clearReadOnly()
    return result
  }),
)

const errorLink = onError(({ graphQLErrors, networkError, operation }) => {
  const d = describeError({ graphQLErrors, networkError })
  if (d.code === 'UNAUTHENTICATED' && operation.getContext().sentToken) {
    // The stored token is no longer accepted: drop it.
    signOut('Your session has expired or was revoked. Please sign in again.')
  }
  if (d.readOnly) markReadOnly(d.retryAfter)
})

const httpLink = new HttpLink({ uri: '/graphql', credentials: 'same-origin' })
// Operations sent with `context: { batch: true }` (the sparklines of "My pastes": one
// pasteStats per row) go out together, up to the server's 10 per request (MAX_BATCH), each
// still its own operation with its own errors.
const batchLink = new BatchHttpLink({ uri: '/graphql', credentials: 'same-origin', batchMax: 10, batchInterval: 15 })
const wsLink = new GraphQLWsLink(wsClient)

const transport = split(
  ({ query }) => {
    const def = getMainDefinition(query)
    return def.kind === 'OperationDefinition' && def.operation === 'subscription'
  },
  wsLink,
  split((operation) => operation.getContext().batch === true, batchLink, httpLink),
)

export const apolloClient = new ApolloClient({
  link: from([errorLink, authLink, writableLink, transport]),
  cache: new InMemoryCache(),
  devtools: { enabled: false },
  defaultOptions: {
    watchQuery: { fetchPolicy: 'network-only', nextFetchPolicy: 'cache-first', errorPolicy: 'none' },
    query: { fetchPolicy: 'network-only', errorPolicy: 'none' },
    mutate: { errorPolicy: 'none' },
  },
})

// A new identity: forget cached per-user data (without refetching: refetching a
// paste's content would count views) and reconnect the socket with the new token.
onAuthChange(() => {
  apolloClient.clearStore().catch(() => {})
  wsClient.terminate()
})
