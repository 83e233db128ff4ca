import { describe, expect, test } from 'vitest'
import { bodyInput, fileNameProblem, filesProblem, newFile, uniqueName } from '../../src/lib/files.js'
import { diffRevisions, diffText } from '../../src/lib/revisions.js'

const server = (id) => (!id || id === 'plaintext' ? null : id)

describe('file rules', () => {
  test('names follow the server rules', () => {
    for (const bad of ['', 'a/b', 'a\\b', '.', '..', ' a', 'a\n', 'txt\u202Eexe', 'zero\u200Bwidth', 'x'.repeat(129)]) {
      expect(fileNameProblem(bad), JSON.stringify(bad)).not.toBeNull()
    }
    for (const good of ['main.rs', 'Makefile', 'ünïcødé.md', 'a b.txt', '.env']) expect(fileNameProblem(good)).toBeNull()
  })

  test('one unnamed file is a one-file paste; several need unique names', () => {
    expect(filesProblem([newFile('', 'x')])).toBeNull()
    expect(bodyInput([newFile('', 'x')], server)).toEqual({ content: 'x' })
    expect(filesProblem([newFile('', '')])?.message).toMatch(/Write/)
    expect(filesProblem([newFile('a.rs', 'x'), newFile('', 'y')])?.index).toBe(1)
    expect(filesProblem([newFile('A.txt', 'x'), newFile('a.TXT', 'y')])?.message).toMatch(/unique/)
    expect(bodyInput([newFile('a.rs', 'x'), newFile('b', 'y', 'python')], server)).toEqual({
      files: [
        { name: 'a.rs', content: 'x', language: null },
        { name: 'b', content: 'y', language: 'python' },
      ],
    })
  })

  test('dropped files get a name of their own', () => {
    const files = [newFile('notes.md', 'x'), newFile('notes (2).md', 'y')]
    expect(uniqueName(files, 'main.rs')).toBe('main.rs')
    expect(uniqueName(files, 'NOTES.md')).toBe('NOTES (3).md')
  })
})

describe('revision diffs', () => {
  test('lines are marked and numbered on each side', () => {
    expect(diffText('a\nb\nc\n', 'a\nB\nc\nd\n')).toEqual([
      { kind: ' ', text: 'a', old: 1, new: 1 },
      { kind: '-', text: 'b', old: 2, new: null },
      { kind: '+', text: 'B', old: null, new: 2 },
      { kind: ' ', text: 'c', old: 3, new: 3 },
      { kind: '+', text: 'd', old: null, new: 4 },
    ])
  })

  test('files pair by name, then by their text (renames); the rest are added or removed', () => {
    const d = diffRevisions(
      [{ name: 'main.rs', content: 'fn a\n' }, { name: 'old.txt', content: 'same\n' }, { name: 'gone', content: 'x\n' }],
      [{ name: 'main.rs', content: 'fn b\n' }, { name: 'new.txt', content: 'same\n' }, { name: 'added.md', content: '#\n' }],
    )
    expect(d.map((f) => [f.name, f.status, f.from, f.added, f.removed])).toEqual([
      ['main.rs', 'modified', null, 1, 1],
      ['new.txt', 'renamed', 'old.txt', 0, 0],
      ['added.md', 'added', null, 1, 0],
      ['gone', 'removed', null, 0, 1],
    ])
  })
})
