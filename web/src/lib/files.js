// The files of a paste as the forms edit them, and the rules the server applies to them
// (checked here first so that the form can say what is wrong before sending). Pure.

/** Most files in one paste and the longest name (the server's Limits say the same). */
export const MAX_FILES = 20
export const MAX_FILE_NAME = 128

// Unicode format characters (category Cf) and the line/paragraph separators: they make one
// name look like another (bidi overrides, zero-width characters). The server refuses them.
const FORMAT = /[\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\uD804[\uDCBD\uDCCD]|\uD80D[\uDC30-\uDC3F]|\uD82F[\uDCA0-\uDCA3]|\uD834[\uDD73-\uDD7A]|\uDB40[\uDC01\uDC20-\uDC7F]/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/

let nextKey = 1
/** A file of a form: a stable key for v-for, its name, text and language ('auto' = from the name). */
export function newFile(name = '', content = '', language = 'auto') {
  return { key: nextKey++, name, content, language }
}

/** Why a file name is refused, or null when it is fine. */
export function fileNameProblem(name) {
  if (typeof name !== 'string' || name.length === 0) return 'Give the file a name.'
  if ([...name].length > MAX_FILE_NAME) return `At most ${MAX_FILE_NAME} characters.`
  if (/[/\\]/.test(name)) return 'No / or \\ in file names.'
  if (CONTROL.test(name)) return 'No control characters in file names.'
  if (FORMAT.test(name)) return 'No invisible formatting characters (bidi or zero-width) in file names.'
  if (name === '.' || name === '..') return 'Not . or .. — give it a real name.'
  if (name.trim() !== name) return 'No spaces at the start or end.'
  return null
}

/**
 * What is wrong with a form's files, as `{ index, message }` (the first problem), or null.
 * One file without a name is a one-file paste (named by the server); several need names,
 * unique without regard to case.
 */
export function filesProblem(files) {
  if (!Array.isArray(files) || files.length === 0) return { index: 0, message: 'Write or paste some text first.' }
  if (files.length > MAX_FILES) return { index: MAX_FILES, message: `A paste has at most ${MAX_FILES} files.` }
  const seen = new Map()
  for (const [i, f] of files.entries()) {
    if (!f.content) return { index: i, message: files.length > 1 ? `${f.name || `File ${i + 1}`} is empty.` : 'Write or paste some text first.' }
    if (files.length === 1 && !f.name) continue
    const problem = fileNameProblem(f.name)
    if (problem) return { index: i, message: problem }
    const lower = f.name.toLowerCase()
    if (seen.has(lower)) return { index: i, message: `Two files are named ${f.name} (names are unique without regard to case).` }
    seen.set(lower, i)
  }
  return null
}

/**
 * The body of CreatePasteInput / UpdatePasteInput for a form's files: `{ content }` for one
 * file without a name (a one-file paste, as always), `{ files }` otherwise.
 * @param {{name: string, content: string, language: string}[]} files
 * @param {(id: string) => string|null} languageForServer maps 'auto'/'plaintext' etc.
 */
export function bodyInput(files, languageForServer) {
  if (files.length === 1 && !files[0].name) return { content: files[0].content }
  return {
    files: files.map((f) => ({
      name: f.name,
      content: f.content,
      language: f.language === 'auto' ? null : languageForServer(f.language),
    })),
  }
}

/** A name not yet taken in `files`: `base`, or `base` with " (2)", " (3)" … before the extension. */
export function uniqueName(files, base) {
  const taken = new Set(files.map((f) => (f.name || '').toLowerCase()))
  if (!taken.has(base.toLowerCase())) return base
  const dot = base.lastIndexOf('.')
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, '']
  for (let n = 2; ; n += 1) {
    const candidate = `${stem} (${n})${ext}`
    if (!taken.has(candidate.toLowerCase())) return candidate
  }
}

/** A default name for a new file: file2.txt, file3.txt … */
export function nextFileName(files) {
  return uniqueName(files, `file${files.length + 1}.txt`)
}
