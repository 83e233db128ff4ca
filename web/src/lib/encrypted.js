// What the pages do with encrypted pastes, as pure functions (unit-tested): the bundle a form
// makes, the GraphQL input, the share link, the files of a bundle, and the user-facing state
// of every way decrypting can fail. The cryptography is in envelope.js, which this module does
// not import: the paste page loads it only when it has something to decrypt.
import { formatFragment } from './fragment.js'
import { fileExtension, languageForName } from './languages.js'

/** The file name of a one-text paste: `paste.<ext>`, or `Dockerfile`. */
export function fileNameFor(language) {
  const ext = fileExtension(language)
  return ext === 'Dockerfile' ? 'Dockerfile' : `paste.${ext}`
}

/** The bundle of the new-paste form. `language` as sent to the server (null = plain text). */
export function bundleFromForm({ title, language, content }) {
  return { title: title || null, files: [{ name: fileNameFor(language), language: language || null, content }] }
}

/**
 * The bundle of a form's files (the new-paste form and the editor): every file, the title and
 * the language, sealed together. One file without a name is a one-text paste named after its
 * language (`language`: as sent to the server, null = plain text); a file whose language is
 * 'auto' takes the one its name says, as the server would for a plain paste.
 * @param {{ title: string, language: string|null, files: {name: string, content: string, language: string}[] }} form
 * @param {(id: string) => string|null} languageForServer
 */
export function bundleFromFiles({ title, language, files }, languageForServer) {
  if (files.length === 1 && !files[0].name) return bundleFromForm({ title, language, content: files[0].content })
  return {
    title: title || null,
    files: files.map((f) => ({
      name: f.name,
      language: f.language === 'auto' ? languageForName(f.name) : languageForServer(f.language),
      content: f.content,
    })),
  }
}

/**
 * The page's files of a decrypted bundle: as the paste page shows a plain paste's files (no
 * raw URL: the server has only the envelope).
 */
export function filesOfBundle(bundle) {
  return (bundle?.files || []).map((f) => ({ name: f.name, language: f.language || languageForName(f.name), content: f.content, rawUrl: null }))
}

/** The editor's files of a decrypted bundle (a language its name says is 'auto'). */
export function formFilesOfBundle(bundle) {
  return (bundle?.files || []).map((f) => ({ name: f.name, content: f.content, language: !f.language || f.language === languageForName(f.name) ? 'auto' : f.language }))
}

/** UpdatePasteInput of an encrypted paste: the new envelope, nothing readable beside it. */
export function encryptedUpdateInput(envelope, baseRevision) {
  return { baseRevision, encrypted: envelopeOnly(envelope) }
}

const ENVELOPE_FIELDS = ['version', 'algorithm', 'kdf', 'salt', 'iterations', 'nonce', 'ciphertext']

/** Only the envelope's fields (a result from Apollo carries `__typename`, which an input refuses). */
export function envelopeOnly(envelope) {
  return Object.fromEntries(ENVELOPE_FIELDS.map((f) => [f, envelope?.[f] ?? null]))
}

/**
 * CreatePasteInput for an encrypted paste: the envelope and the lifetime settings, and no
 * title, language or content (they are inside the envelope; the server refuses them beside it).
 */
export function encryptedCreateInput(envelope, { expiresIn, visibility, burnAfterReading, maxViews, idempotencyKey }) {
  return { encrypted: envelopeOnly(envelope), expiresIn, visibility, burnAfterReading, maxViews, idempotencyKey }
}

/** The link to share: the paste's URL with the key in its fragment (never in path or query). */
export function shareLink(url, key) {
  const base = String(url || '').split('#')[0]
  return key ? base + formatFragment({ key }) : base
}

/** The fragment of a new encrypted paste's page: `#k=<key>`. */
export function keyFragment(key) {
  return formatFragment({ key })
}

/** Decoded ciphertext bytes of an envelope (what the server counts against its limit). */
export function ciphertextBytes(envelope) {
  const n = String(envelope?.ciphertext || '').length
  return Math.floor(n / 4) * 3 + Math.max(0, (n % 4) - 1)
}

/**
 * The user-facing state of a failure to open an envelope. `askPassword` says the password form
 * stays (a wrong password can be tried again: the envelope is kept in the page).
 * @returns {{ code: string, kind: string, tone: string, title: string, message: string, askPassword: boolean }}
 */
export function openErrorState(error) {
  const code = error?.name === 'EnvelopeError' ? error.code : 'UNKNOWN'
  const s = (kind, tone, title, message, askPassword = false) => ({ code, kind, tone, title, message, askPassword })
  switch (code) {
    case 'PASSWORD_REQUIRED':
      return s('password', 'info', 'Password needed', 'This paste is protected by a password. Enter it to decrypt the paste in this browser.', true)
    case 'WRONG_KEY_OR_PASSWORD':
      return s('wrong-password', 'error', 'Wrong password', 'That password does not open this paste. Check it and try again. If you are sure of it, the link may be damaged: compare it with the one you were sent.', true)
    case 'WRONG_KEY':
      return s('wrong-key', 'error', "The link's key does not open this paste", 'The part of the link after “#k=” is damaged or belongs to another paste. Ask for the link again and copy it whole.')
    case 'MISSING_KEY':
      return s('missing-key', 'warn', 'This link is missing its key', 'The paste is encrypted, and its key is the part of the link after “#k=”. Ask whoever sent it for the whole link.')
    case 'INVALID_KEY':
      return s('invalid-key', 'error', 'This link is damaged', 'The key in the link (after “#k=”) is cut short or altered. Copy the whole link again.')
    case 'SETTINGS_CHANGED':
      return s(
        'settings-changed',
        'error',
        "This paste's settings were changed on the server",
        error.sealedBurnAfterReading
          ? 'Its author made it to burn after reading, but the server served it as an ordinary paste, so others may have read it. It is not shown.'
          : 'Its author made it as an ordinary paste, but the server served it as burn-after-reading. It is not shown.',
      )
    case 'UNSUPPORTED_VERSION':
    case 'UNSUPPORTED_ALGORITHM':
    case 'UNSUPPORTED_KDF':
      return s('unsupported', 'warn', 'Made by a newer version', 'This paste uses an encryption format this page does not know yet. Reload the page to get the current app.')
    case 'UNAVAILABLE':
      return s('no-webcrypto', 'warn', 'Decrypting needs a secure connection', 'This page was not loaded over https, so the browser offers no encryption to decrypt with. Open the link with https.')
    case 'INVALID_ENVELOPE':
    case 'ENVELOPE_TOO_LARGE':
    case 'INVALID_BUNDLE':
      return s('damaged', 'error', 'This encrypted paste is damaged', 'It decrypts to nothing this app can show. It may have been made by a faulty client.')
    default:
      return s('decrypt-failed', 'error', 'Could not decrypt this paste', 'Something went wrong while decrypting it in this browser. Reload the page to try again.')
  }
}

/** The user-facing state of a failure to seal a new paste (before anything is sent). */
export function sealErrorState(error) {
  const code = error?.name === 'EnvelopeError' ? error.code : 'UNKNOWN'
  switch (code) {
    case 'UNAVAILABLE':
      return { kind: 'no-webcrypto', title: 'Encryption needs a secure connection', message: 'This page was not loaded over https, so the browser offers no encryption. Open the site with https, or create the paste without encryption.' }
    case 'BUNDLE_TOO_LARGE':
      return { kind: 'too-large', title: 'Too large to encrypt', message: error.message }
    case 'INVALID_BUNDLE':
      return { kind: 'bad-input', title: 'Please check your input', message: error.message }
    default:
      return { kind: 'unknown', title: 'Could not encrypt', message: 'Something went wrong while encrypting in this browser. Nothing was sent.' }
  }
}
