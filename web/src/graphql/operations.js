// The app's GraphQL operations. They are NOT written here: they come from
// graphql/operations/*.graphql (checked against graphql/schema.graphql by
// `npm run check:ops`), so a schema change that breaks the app fails that check.
// Every name below must be an operation in those files (check:ops checks that too).
import { buildDocuments } from './documents.js'

const files = import.meta.glob('../../../graphql/operations/*.graphql', {
  query: '?raw',
  import: 'default',
  eager: true,
})
const documents = buildDocuments(Object.keys(files).sort().map((k) => files[k]))

function operation(name) {
  const doc = documents.get(name)
  if (!doc) throw new Error(`GraphQL operation ${name} is missing from graphql/operations`)
  return doc
}

export const PASTE_META = operation('PasteMeta')
export const PASTE_CONTENT = operation('PasteContent')
export const REVEAL_PASTE = operation('RevealPaste')
export const CREATE_PASTE = operation('CreatePaste')
export const DELETE_PASTE = operation('DeletePaste')
export const UPDATE_PASTE = operation('UpdatePaste')
export const FORK_PASTE = operation('ForkPaste')
export const PASTE_REVISIONS = operation('PasteRevisions')
export const REVISION_FILES = operation('RevisionFiles')
export const PASTE_VIEWS = operation('PasteViews')
export const PASTE_REVISIONS_LIVE = operation('PasteRevisionsLive')
export const LIMITS = operation('Limits')
export const PASTE_ENCRYPTED = operation('PasteEncrypted')
export const REVEAL_PASTE_ENCRYPTED = operation('RevealPasteEncrypted')
export const RECENT_PASTES = operation('RecentPastes')
export const MY_PASTES = operation('MyPastes')
export const REGISTER = operation('Register')
export const LOGIN = operation('Login')
export const ME = operation('Me')
export const PASTE_STATS = operation('PasteStats')
export const IDENTITY_PROVIDER = operation('IdentityProvider')
export const ACCESS_TOKENS = operation('AccessTokens')
export const CREATE_ACCESS_TOKEN = operation('CreateAccessToken')
export const REVOKE_ACCESS_TOKEN = operation('RevokeAccessToken')
export const REPORT_PASTE = operation('ReportPaste')
export const REPORTS = operation('Reports')
export const AUDIT_LOG = operation('AuditLog')
export const HIDE_PASTE = operation('HidePaste')
export const UNHIDE_PASTE = operation('UnhidePaste')
export const REMOVE_PASTE = operation('RemovePaste')
export const BAN_ACCOUNT = operation('BanAccount')
export const UNBAN_ACCOUNT = operation('UnbanAccount')
export const DISMISS_REPORT = operation('DismissReport')
