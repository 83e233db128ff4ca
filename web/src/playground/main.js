// The GraphQL playground (GraphiQL 4, CodeMirror 5): its own page (playground.html, served
// on GET /graphql), bundled, so it works without any other origin and under a CSP with no
// 'unsafe-inline' and no 'unsafe-eval'. None of it is loaded by the web app's pages.
import { createElement as h } from 'react'
import { createRoot } from 'react-dom/client'
import { GraphiQL } from 'graphiql'
import 'graphiql/style.css'
import './playground.css'
import { createFetcher, defaultQuery, sessionToken } from './fetcher.js'

const storage = (() => {
  try {
    return window.localStorage
  } catch {
    return { getItem: () => null, setItem() {}, removeItem() {} }
  }
})()

const signedIn = sessionToken(storage) !== null
const DEFAULT_QUERY = defaultQuery(signedIn)

const logo = h(
  GraphiQL.Logo,
  null,
  h('a', { href: '/', className: 'playground-home', title: 'Back to the web app' }, 'pastebin'),
  ' GraphQL',
)

createRoot(document.getElementById('playground')).render(
  h(GraphiQL, { fetcher: createFetcher({ storage, location: window.location }), defaultQuery: DEFAULT_QUERY, shouldPersistHeaders: false }, logo),
)
