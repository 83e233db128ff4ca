// The curated language list (ids are highlight.js language names, sent to the server as
// CreatePasteInput.language). The grammars themselves are in highlight.js, loaded lazily.

export const LANGUAGES = Object.freeze([
  { id: 'plaintext', label: 'Plain text' },
  { id: 'bash', label: 'Bash' },
  { id: 'c', label: 'C' },
  { id: 'cpp', label: 'C++' },
  { id: 'csharp', label: 'C#' },
  { id: 'css', label: 'CSS' },
  { id: 'diff', label: 'Diff' },
  { id: 'dockerfile', label: 'Dockerfile' },
  { id: 'go', label: 'Go' },
  { id: 'graphql', label: 'GraphQL' },
  { id: 'xml', label: 'HTML / XML' },
  { id: 'ini', label: 'INI / TOML' },
  { id: 'java', label: 'Java' },
  { id: 'javascript', label: 'JavaScript' },
  { id: 'json', label: 'JSON' },
  { id: 'kotlin', label: 'Kotlin' },
  { id: 'lua', label: 'Lua' },
  { id: 'makefile', label: 'Makefile' },
  { id: 'markdown', label: 'Markdown' },
  { id: 'nginx', label: 'Nginx' },
  { id: 'perl', label: 'Perl' },
  { id: 'php', label: 'PHP' },
  { id: 'python', label: 'Python' },
  { id: 'ruby', label: 'Ruby' },
  { id: 'rust', label: 'Rust' },
  { id: 'scss', label: 'SCSS' },
  { id: 'shell', label: 'Shell session' },
  { id: 'sql', label: 'SQL' },
  { id: 'swift', label: 'Swift' },
  { id: 'typescript', label: 'TypeScript' },
  { id: 'yaml', label: 'YAML' },
])

const byId = new Map(LANGUAGES.map((l) => [l.id, l]))

/** Human label for a language id (or alias, or unknown string); null/'' = plain text. */
export function languageLabel(id) {
  if (!id) return 'Plain text'
  const l = byId.get(String(id).toLowerCase())
  return l ? l.label : String(id)
}

/** The value to send as CreatePasteInput.language: null for plain text. */
export function languageForServer(id) {
  return !id || id === 'plaintext' ? null : id
}

/** A file extension for downloads. */
const EXT = {
  bash: 'sh', c: 'c', cpp: 'cpp', csharp: 'cs', css: 'css', diff: 'diff', dockerfile: 'Dockerfile',
  go: 'go', graphql: 'graphql', xml: 'html', ini: 'ini', java: 'java', javascript: 'js', json: 'json',
  kotlin: 'kt', lua: 'lua', makefile: 'mk', markdown: 'md', nginx: 'conf', perl: 'pl', php: 'php',
  python: 'py', ruby: 'rb', rust: 'rs', scss: 'scss', shell: 'txt', sql: 'sql', swift: 'swift',
  typescript: 'ts', yaml: 'yaml',
}
export function fileExtension(id) {
  return EXT[String(id || '').toLowerCase()] || 'txt'
}

/** "paste-Ab3dE9.rs", or a slug of the title. */
export function downloadName(paste) {
  const ext = fileExtension(paste.language)
  const slug = (paste.title || '')
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
  const base = slug || `paste-${paste.id}`
  if (ext === 'Dockerfile') return slug || 'Dockerfile'
  return base.toLowerCase().endsWith(`.${ext}`) ? base : `${base}.${ext}`
}

/** Whether a paste (or, with several files, a file) is Markdown: by its language or its name. */
export function isMarkdown(language, fileName = null) {
  const l = String(language || '').toLowerCase()
  if (['markdown', 'md', 'mkd', 'mkdown'].includes(l)) return true
  return !language && typeof fileName === 'string' && /\.(md|markdown|mkd|mkdown)$/i.test(fileName)
}

/** The language a file name says (`main.rs` -> rust), or null: the server's rule, for files
 * shown before the server named their language. */
export function languageForName(name) {
  const lower = String(name || '').toLowerCase()
  if (lower === 'makefile' || lower === 'gnumakefile') return 'makefile'
  if (lower === 'dockerfile' || lower === 'containerfile') return 'dockerfile'
  const dot = lower.lastIndexOf('.')
  if (dot < 0) return null
  const ext = lower.slice(dot + 1)
  const more = { pyw: 'python', mjs: 'javascript', cjs: 'javascript', jsx: 'javascript', tsx: 'typescript', h: 'c', cc: 'cpp', hpp: 'cpp', cxx: 'cpp', yml: 'yaml', toml: 'ini', htm: 'xml', svg: 'xml', markdown: 'markdown', patch: 'diff', gql: 'graphql', zsh: 'bash' }
  if (more[ext]) return more[ext]
  for (const [id, e] of Object.entries(EXT)) if (e.toLowerCase() === ext && id !== 'shell') return id
  return null
}
