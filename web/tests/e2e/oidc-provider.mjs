// A real OpenID provider for the sign-in tests: npm's `oidc-provider` (the certified
// node implementation), with its development login pages (any login, any password). Started
// by scripts/e2e on 127.0.0.1 before the server, which is configured with it.
//   OIDC_PORT            port to listen on (127.0.0.1)
//   OIDC_CLIENT_SECRET   secret of the client `pastebin`
//   OIDC_REDIRECT_URI    the server's callback, e.g. http://127.0.0.1:PORT/auth/oidc/callback
// Logins starting with "admin" get `groups: ["pastebin-admins"]` (the server's admin claim).
import Provider from 'oidc-provider'

const port = Number(process.env.OIDC_PORT)
const secret = process.env.OIDC_CLIENT_SECRET
const redirect = process.env.OIDC_REDIRECT_URI
if (!port || !secret || !redirect) {
  console.error('oidc-provider: set OIDC_PORT, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URI')
  process.exit(2)
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: 'pastebin',
      client_secret: secret,
      redirect_uris: [redirect],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name', 'groups'],
    email: ['email'],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: `subject-${id}`,
          preferred_username: id,
          name: id,
          email: `${id}@example.test`,
          groups: id.startsWith('admin') ? ['pastebin-admins'] : ['staff'],
        }
      },
    }
  },
  cookies: { keys: ['only-for-the-e2e-tests'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
})

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`)
})
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
