// @vitest-environment jsdom
import { describe, expect, it } from 'vitest'
import { fenceLanguages, renderMarkdown, sanitize } from '../../src/lib/markdown.js'

async function html(source) {
  const div = document.createElement('div')
  div.append(await renderMarkdown(source, window))
  return div
}

function clean(raw) {
  const div = document.createElement('div')
  div.append(sanitize(raw, window))
  return div
}

describe('renderMarkdown', () => {
  it('renders CommonMark', async () => {
    const d = await html('# Title\n\nSome *text* and a [link](https://example.com/a).\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n')
    expect(d.querySelector('h1').textContent).toBe('Title')
    expect(d.querySelector('em').textContent).toBe('text')
    expect(d.querySelectorAll('li')).toHaveLength(2)
    expect(d.querySelector('table td').textContent).toBe('1')
    const a = d.querySelector('a')
    expect(a.getAttribute('href')).toBe('https://example.com/a')
    expect(a.getAttribute('rel')).toBe('nofollow noopener noreferrer ugc')
  })

  it('highlights code fences with the app highlighter', async () => {
    const d = await html('```rust\nfn main() {}\n```\n\n```nosuchlang\n<b>x</b>\n```\n')
    const [rust, other] = d.querySelectorAll('pre code')
    expect(rust.className).toBe('language-rust')
    expect(rust.querySelector('.hljs-keyword').textContent).toBe('fn')
    expect(other.textContent).toBe('<b>x</b>\n')
    expect(other.querySelector('b')).toBeNull()
  })

  it('shows raw HTML as text: nothing in it runs', async () => {
    const d = await html('<script>window.pwned = 1</script>\n\nText <img src="x" onerror="window.pwned = 2"> more')
    expect(d.querySelector('script, img')).toBeNull()
    expect(d.textContent).toContain('<script>window.pwned = 1</script>')
    expect(d.textContent).toContain('<img src="x" onerror="window.pwned = 2">')
    expect(window.pwned).toBeUndefined()
  })

  it('aligns table columns with classes, not inline styles', async () => {
    const d = await html('| a | b |\n|--:|:-:|\n| 1 | 2 |\n')
    expect(d.querySelector('[style]')).toBeNull()
    expect(d.querySelector('td').className).toBe('md-align-right')
    expect(d.querySelectorAll('td')[1].className).toBe('md-align-center')
  })

  it('the sanitiser removes scripts, event handlers, javascript: URLs, styles, forms and frames', async () => {
    const d = clean(
      [
        '<script>window.pwned = 1</script>',
        '<img src="x" onerror="window.pwned = 2">',
        '<p onclick="window.pwned = 3" style="color: red">para</p>',
        '[click](javascript:window.pwned=4)',
        '<a href="javascript:alert(1)">a</a>',
        '<iframe src="https://example.com"></iframe><object data="x"></object><embed src="x">',
        '<form action="/"><input name="content"><button>go</button></form>',
        '<style>body { display: none }</style>',
        '<svg><script>alert(1)</script><a xlink:href="javascript:alert(1)">s</a></svg>',
        '<math><mi xlink:href="javascript:alert(1)">m</mi></math>',
        '<p>[click](javascript:window.pwned=4)</p>',
      ].join('\n\n'),
    )
    const out = d.innerHTML
    expect(d.querySelector('script, iframe, object, embed, form, input, button, style')).toBeNull()
    expect(out).not.toMatch(/onerror|onclick|style=/i)
    for (const el of d.querySelectorAll('*')) {
      for (const attr of el.attributes) expect(attr.value).not.toMatch(/^\s*javascript:/i)
    }
    // The unsafe link is left as text, not as a link.
    expect(d.textContent).toContain('[click](javascript:window.pwned=4)')
    expect(d.querySelector('p').textContent).toBe('para')
    expect(window.pwned).toBeUndefined()
  })

  it('shows remote and same-origin images as links with their URL, never loads them', async () => {
    const d = await html('![a cat](https://images.example/cat.png)\n\n![raw](/raw/abc)\n\n![](http://x.example/p.gif)')
    expect(d.querySelector('img')).toBeNull()
    const links = [...d.querySelectorAll('a.md-image')]
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://images.example/cat.png', '/raw/abc', 'http://x.example/p.gif'])
    expect(links[0].textContent).toBe('Image: a cat (https://images.example/cat.png)')
    expect(links[2].textContent).toBe('Image (http://x.example/p.gif)')
  })

  it('keeps data: images inline', async () => {
    const png = 'data:image/png;base64,iVBORw0KGgo='
    const d = await html(`![dot](${png})`)
    expect(d.querySelector('img').getAttribute('src')).toBe(png)
  })

  it('prefixes ids and names, and drops classes that are not the highlighter\'s', async () => {
    const d = clean('<p id="L10" class="status ok">fake</p>\n\n<a name="main" id="main" class="btn">x</a>')
    expect(d.querySelector('#L10')).toBeNull()
    expect(d.querySelector('#main')).toBeNull()
    expect(d.querySelector('p').getAttribute('id')).toBe('user-content-L10')
    expect(d.querySelector('p').hasAttribute('class')).toBe(false)
    expect(d.querySelector('a').hasAttribute('class')).toBe(false)
  })

  it('never throws on odd input', async () => {
    for (const s of ['', null, undefined, '<'.repeat(10_000), '>'.repeat(500) + 'x', '[a]('.repeat(2000), '*'.repeat(5000)]) {
      await expect(renderMarkdown(s, window)).resolves.toBeDefined()
    }
  })
})

describe('fenceLanguages', () => {
  it('lists the known languages of the fences', () => {
    expect(fenceLanguages('```rs\nx\n```\n```js title\ny\n```\n```\nz\n```\n```cobol\n```\n').sort()).toEqual(['javascript', 'rust'])
  })
})
