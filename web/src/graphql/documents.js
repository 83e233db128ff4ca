// Turns the text of graphql/operations/*.graphql into one DocumentNode per operation,
// each carrying the fragments it uses (transitively). Pure: used by the app
// (operations.js), by `npm run check:ops` and by the unit tests.
import { Kind, parse, visit } from 'graphql'

/**
 * @param {string | string[]} sources the text of the operation files
 * @returns {Map<string, import('graphql').DocumentNode>} operation name -> document
 */
export function buildDocuments(sources) {
  const text = Array.isArray(sources) ? sources.join('\n') : sources
  const doc = parse(text, { noLocation: true })
  const fragments = new Map()
  const operations = []
  for (const def of doc.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) {
      if (fragments.has(def.name.value)) throw new Error(`duplicate fragment ${def.name.value}`)
      fragments.set(def.name.value, def)
    } else if (def.kind === Kind.OPERATION_DEFINITION) {
      if (!def.name) throw new Error('every operation needs a name')
      operations.push(def)
    }
  }
  const out = new Map()
  for (const op of operations) {
    const name = op.name.value
    if (out.has(name)) throw new Error(`duplicate operation ${name}`)
    const used = new Set()
    const queue = [op]
    while (queue.length) {
      visit(queue.pop(), {
        FragmentSpread(node) {
          const fname = node.name.value
          if (used.has(fname)) return
          const frag = fragments.get(fname)
          if (!frag) throw new Error(`operation ${name} uses unknown fragment ${fname}`)
          used.add(fname)
          queue.push(frag)
        },
      })
    }
    out.set(name, {
      kind: Kind.DOCUMENT,
      definitions: [op, ...[...used].map((f) => fragments.get(f))],
    })
  }
  return out
}
