// Random keys that work in insecure contexts too (plain http on a LAN has no
// crypto.randomUUID, but has crypto.getRandomValues).

/** 32 hex characters: a CreatePasteInput.idempotencyKey (8-64 chars). */
export function idempotencyKey(cryptoImpl = globalThis.crypto) {
  const bytes = new Uint8Array(16)
  cryptoImpl.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
