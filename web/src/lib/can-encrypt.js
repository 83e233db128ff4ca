// Whether this page can seal and open encrypted pastes: WebCrypto (only in secure contexts:
// https, or http://localhost) and CompressionStream. Its own module so that the new-paste form
// can ask without loading the encryption code (envelope.js loads when a paste is sealed).
export function encryptionAvailable() {
  return !!globalThis.crypto?.subtle && typeof globalThis.CompressionStream === 'function' && typeof globalThis.DecompressionStream === 'function'
}
