// Browser tests of the public site: the real binary (BOT_BIN) runs `serve` on loopback, and Debian's
// Chromium, driven by playwright-core, reads its pages as a person would. `cargo test` runs them
// (tests/browser.rs):
//   BOT_BIN=target/debug/karabakh-reactions node --test tests/browser/
// What they prove:
// - every page reached from the home page loads (200) with no console error, no failed request and no
//   script, and every internal link and anchor on it leads somewhere (a crawl of the whole site);
// - search (typed into the form, submitted without JavaScript) and browsing (an actor, a month, a
//   day, a citation, a day of the year) show what `karabakh-reactions ask` answers for the same query;
// - axe-core finds no serious or critical accessibility violation on any kind of page, and the
//   keyboard reaches the content (skip link, visible focus);
// - screenshots of the home page, a statement's permalink page and a command's embed preview are
//   written to ARTIFACTS_DIR (target/browser-artifacts when cargo runs them).
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { after, before, describe, test } from 'node:test'
import { chromium } from 'playwright-core'

const require = createRequire(import.meta.url)
const BOT_BIN = process.env.BOT_BIN
if (!BOT_BIN && process.env.CI) {
  throw new Error('BOT_BIN is not set: under CI these tests must run, not be skipped (cargo test sets BOT_BIN)')
}
const skip = !BOT_BIN && 'BOT_BIN is not set (cargo test sets it to the binary it built)'
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
/** The flags this machine's closed network needs (see the README's browser tests). */
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? path.join(os.tmpdir(), 'karabakh-browser-artifacts')

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kr-browser-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** A free loopback port (the bot's public address must be known before it starts). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** The environment of the bot and of `ask`: nothing of the host's own setup. */
function cleanEnv(extra) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DISCORD_') && !k.startsWith('KR_')))
  return { ...base, ...extra }
}

let origin
/** Every page of `ask --json --all-pages` for a command, as JSON bodies. */
function ask(command) {
  const r = spawnSync(BOT_BIN, ['ask', '--json', '--all-pages', command], {
    cwd: tmp, env: cleanEnv({ KR_PUBLIC_URL: origin }), encoding: 'utf8', timeout: 20_000,
  })
  assert.equal(r.status, 0, r.stderr)
  const parsed = JSON.parse(r.stdout)
  return Array.isArray(parsed) ? parsed : [parsed]
}

/** Discord markdown as the text it shows: `\x` is x, `__` (a search match) is nothing. */
function unmarkdown(s) {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      out += s[++i]
    } else if (s[i] === '_' && s[i + 1] === '_') {
      i++
    } else {
      out += s[i]
    }
  }
  return out
}

/**
 * The quotes a reply shows, page after page: each `> ` line without its citation links, as text.
 * Statements end with their citations; background sentences have none.
 */
function askQuotes(command) {
  const quotes = []
  for (const body of ask(command)) {
    const description = body.data.embeds[0].description
    for (const line of description.split('\n')) {
      if (!line.startsWith('> ')) continue
      const quote = line.slice(2).replace(/( \[\\\[\d+\\\]\]\([^)]*\))+$/, '')
      quotes.push(unmarkdown(quote).trim())
    }
  }
  return quotes
}

describe('the public site in Chromium', { skip, timeout: 600_000 }, () => {
  let bot
  let output = ''
  let browser
  /** Pages visited by the crawl: path → {status, links} */
  const visited = new Map()

  before(async () => {
    const port = await freePort()
    origin = `http://127.0.0.1:${port}`
    const { publicKey } = crypto.generateKeyPairSync('ed25519')
    const key = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('hex')
    bot = spawn(BOT_BIN, ['serve', '--listen', `127.0.0.1:${port}`], {
      cwd: tmp,
      env: cleanEnv({ DISCORD_PUBLIC_KEY: key, KR_DATABASE: path.join(tmp, 'settings.sqlite3'), KR_PUBLIC_URL: origin, KR_LOG: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    bot.stdout.setEncoding('utf8').on('data', (s) => { output += s })
    bot.stderr.setEncoding('utf8').on('data', (s) => { output += s })
    const started = Date.now()
    while (!/listening on http:\/\//.test(output)) {
      if (bot.exitCode !== null) throw new Error(`serve exited: ${output}`)
      if (Date.now() - started > 20_000) throw new Error(`serve did not start: ${output}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    // playwright-core drives the system's Chromium; each launch gets a fresh, empty profile
    // (Playwright passes its own new --user-data-dir).
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 60_000 })
    fs.mkdirSync(ARTIFACTS, { recursive: true })
  })

  after(async () => {
    await browser?.close()
    if (bot && bot.exitCode === null) {
      bot.kill('SIGTERM')
      await new Promise((r) => bot.once('exit', r))
    }
  })

  test('every page reached from the home page loads with no console error, no failed request, no script; every link and anchor leads somewhere', async () => {
    // JavaScript off: every page must read without it. Three tabs share the queue.
    const context = await browser.newContext({ javaScriptEnabled: false })
    const problems = []
    const anchors = []
    const resources = new Set()
    const queue = ['/']
    const seen = new Set(queue)
    async function worker() {
      const page = await context.newPage()
      let current = '/'
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${current}: console ${m.type()}: ${m.text()}`) })
      page.on('pageerror', (e) => problems.push(`${current}: page error: ${e}`))
      // The icon is fetched after the load event; moving on to the next page aborts it.
      page.on('requestfailed', (r) => {
        if (!(r.url().endsWith('/assets/icon.svg') && r.failure()?.errorText === 'net::ERR_ABORTED')) problems.push(`${current}: request failed: ${r.url()} ${r.failure()?.errorText}`)
      })
      page.on('response', (r) => { if (r.status() >= 400) problems.push(`${current}: ${r.status()} for ${r.url()}`) })
      for (;;) {
        if (queue.length === 0) {
          if (busy === 0) break
          await new Promise((r) => setTimeout(r, 20))
          continue
        }
        current = queue.shift()
        busy += 1
        const response = await page.goto(origin + current, { waitUntil: 'load' })
        assert.equal(response.status(), 200, `${current} answered ${response.status()}`)
        const found = await page.evaluate(() => ({
          links: [...document.querySelectorAll('a[href]')].map((a) => a.href),
          resources: [...document.querySelectorAll('link[href]')].map((l) => l.href),
          images: [...document.images].map((i) => ({ src: i.src, complete: i.complete, width: i.naturalWidth })),
          scripts: document.scripts.length,
          ids: [...document.querySelectorAll('[id]')].map((e) => e.id),
        }))
        assert.equal(found.scripts, 0, `${current} has a script`)
        for (const img of found.images) assert.ok(img.complete && img.width > 0, `${current}: image ${img.src} did not load`)
        for (const r of found.resources) if (r.startsWith(origin)) resources.add(r)
        visited.set(current, { ids: new Set(found.ids) })
        for (const href of found.links) {
          const url = new URL(href)
          if (url.origin !== origin) continue
          if (url.hash.length > 1) anchors.push({ from: current, path: url.pathname + url.search, id: decodeURIComponent(url.hash.slice(1)) })
          const target = url.pathname + url.search
          if (!seen.has(target)) {
            seen.add(target)
            queue.push(target)
          }
        }
        busy -= 1
      }
      await page.close()
    }
    let busy = 0
    await Promise.all([worker(), worker(), worker()])
    // Stylesheets and icons: each one a page names loads.
    for (const r of resources) {
      const response = await context.request.get(r)
      assert.equal(response.status(), 200, r)
    }
    for (const a of anchors) {
      const target = visited.get(a.path)
      assert.ok(target, `${a.from} links to ${a.path}, not visited`)
      assert.ok(target.ids.has(a.id), `${a.from} links to ${a.path}#${a.id}: no such id there`)
    }
    assert.deepEqual(problems, [])
    assert.ok(visited.size > 600, `${visited.size} pages crawled`)
    console.log(`# crawled ${visited.size} pages and ${anchors.length} anchors`)
    await context.close()
  })

  /** The statement quotes a page shows, in order (`.statement-text`), and its background sentences. */
  async function siteQuotes(page, selector = 'main') {
    return page.$$eval(`${selector} .statement-text, ${selector} .events blockquote, ${selector} .topic-result blockquote`, (els) => els.map((e) => e.textContent.trim()))
  }

  test('search, typed into the form and sent without JavaScript, finds what `ask /search` finds, in its order', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false })
    const page = await context.newPage()
    for (const query of ['cluster munitions', 'ceasefire', 'Erdogan', 'Minsk Group', 'zxqv']) {
      await page.goto(`${origin}/`)
      await page.getByLabel('Search the statements').fill(query)
      await Promise.all([page.waitForURL(/\/search\/\?q=/), page.getByRole('button', { name: 'Search' }).click()])
      assert.equal(new URL(page.url()).searchParams.get('q'), query)
      const bodies = ask(`/search ${query}`)
      const embed = bodies[0].data.embeds[0]
      if (query === 'zxqv') {
        assert.match(embed.description, /Nothing in the dataset matches/)
        assert.match(await page.locator('main').innerText(), /Nothing in the dataset matches “zxqv”/)
        continue
      }
      const count = Number(embed.description.match(/^(\d+) results?/)[1])
      assert.match(await page.locator('[role=status]').innerText(), new RegExp(`^${count} results?, best first`))
      const statements = await page.$$eval('ol.results .statement-text', (els) => els.map((e) => e.textContent.trim()))
      // ask shows background summaries in a window; the site in full: compare statements, and titles.
      const askStatements = []
      const askExcerpts = []
      for (const b of bodies) {
        for (const block of b.data.embeds[0].description.split('\n\n')) {
          const [head, quote] = block.split('\n> ')
          if (quote === undefined || head.startsWith('**Background**')) continue
          const text = unmarkdown(quote.replace(/( \[\\\[\d+\\\]\]\([^)]*\))+$/, '')).trim()
          // A quote from the reference list is shown as that, not as a statement.
          if (head.startsWith('**Reference list**')) askExcerpts.push(text)
          else askStatements.push(text)
        }
      }
      assert.deepEqual(statements, askStatements, query)
      const excerpts = await page.$$eval('ol.results .excerpt-result blockquote', (els) => els.map((e) => e.textContent.trim()))
      assert.deepEqual(excerpts, askExcerpts, query)
      const topics = await page.$$eval('ol.results .topic-result .meta a', (els) => els.map((e) => e.textContent.trim()))
      // A topic's title links to its own article: `[title](url)` in the reply.
      const askTopics = bodies.flatMap((b) => [...b.data.embeds[0].description.matchAll(/\*\*Background\*\* · (.+)\n/g)]
        .map((m) => unmarkdown(m[1].replace(/^\[(.*)\]\([^)]*\)$/, '$1'))))
      assert.deepEqual(topics, askTopics, query)
      assert.equal(statements.length + topics.length + excerpts.length, count)
    }
    await context.close()
  })

  test('browsing shows what `ask` answers: an actor, a month, a day, a citation, a day of the year, a topic', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false })
    const page = await context.newPage()
    const cases = [
      // In the same order: an actor's statements, then those naming it; a citation's statements.
      { path: '/actors/turkey/', command: '/reaction Turkey', ordered: true },
      { path: '/actors/hungary/', command: '/reaction Hungary', ordered: true },
      { path: '/citations/55/', command: '/source 55', ordered: true },
      { path: '/citations/52/', command: '/source 52', ordered: false },
      // The same entries: the site groups a month's statements by day, the reply by date.
      { path: '/dates/2020-10/', command: '/timeline 2020-10', ordered: false },
      { path: '/dates/2020-10-02/', command: '/timeline 2020-10-02', ordered: false },
      { path: '/dates/2020/', command: '/timeline 2020', ordered: false },
      { path: '/onthisday/11-25/', command: '/onthisday 25 November', ordered: false },
    ]
    for (const c of cases) {
      const response = await page.goto(origin + c.path)
      assert.equal(response.status(), 200, c.path)
      let fromSite = await siteQuotes(page)
      // A reference-list excerpt is quoted too.
      fromSite = fromSite.concat(await page.$$eval('main > blockquote', (els) => els.map((e) => e.textContent.trim())))
      let fromAsk = askQuotes(c.command)
      if (!c.ordered) {
        fromSite = [...fromSite].sort()
        fromAsk = [...fromAsk].sort()
      }
      assert.ok(fromAsk.length > 0, c.command)
      assert.deepEqual(fromSite, fromAsk, `${c.path} against ${c.command}`)
    }
    // A topic: the summary, verbatim.
    await page.goto(`${origin}/topics/madrid-principles/`)
    const [summary] = askQuotes('/topic Madrid Principles')
    assert.equal((await page.locator('main > blockquote').first().innerText()).trim(), summary)
    await context.close()
  })

  test('axe-core finds no serious or critical violation on any kind of page', async () => {
    // axe is injected as a script: this context lets it past the pages' Content-Security-Policy.
    const context = await browser.newContext({ bypassCSP: true })
    const page = await context.newPage()
    const axe = require.resolve('axe-core/axe.min.js')
    const kinds = ['/', '/commands/', '/commands/timeline/', '/commands/config/', '/actors/', '/actors/turkey/',
      '/statements/s2.1/', '/statements/', '/dates/', '/dates/2020/', '/dates/2020-10/', '/dates/2020-10-02/',
      '/onthisday/11-25/', '/citations/', '/citations/55/', '/topics/', '/topics/madrid-principles/',
      '/search/?q=cluster+munitions', '/search/', '/about/', '/licence/', '/terms/', '/privacy/', '/nothing-here/']
    const report = []
    for (const p of kinds) {
      await page.goto(origin + p)
      await page.addScriptTag({ path: axe })
      const result = await page.evaluate(async () => {
        // eslint-disable-next-line no-undef
        const r = await axe.run(document, { resultTypes: ['violations'] })
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }))
      })
      for (const v of result) report.push({ page: p, ...v })
    }
    // The check can fail: the same run on a page with an unlabelled field and an image
    // without a text alternative reports them as serious or critical.
    await page.setContent('<!doctype html><html lang="en"><title>t</title><main><h1>x</h1><img src="x.png"><input></main></html>')
    await page.addScriptTag({ path: axe })
    const bad = await page.evaluate(async () => (await axe.run(document)).violations.map((v) => `${v.id}:${v.impact}`))
    assert.ok(bad.includes('image-alt:critical') && bad.includes('label:critical'), bad.join(', '))
    const serious = report.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    fs.writeFileSync(path.join(ARTIFACTS, 'axe-report.json'), JSON.stringify({ pages: kinds, violations: report }, null, 2))
    assert.deepEqual(serious, [], JSON.stringify(serious, null, 2))
    console.log(`# axe-core: ${kinds.length} pages, ${report.length} minor or moderate findings (axe-report.json)`)
    await context.close()
  })

  test('the keyboard reaches the content: the skip link comes first and focus is visible', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false })
    const page = await context.newPage()
    await page.goto(`${origin}/statements/s2.1/`)
    await page.keyboard.press('Tab')
    const first = await page.evaluate(() => {
      const e = document.activeElement
      const style = getComputedStyle(e)
      return { text: e.textContent, href: e.getAttribute('href'), outline: style.outlineStyle, width: style.outlineWidth, left: e.getBoundingClientRect().left }
    })
    assert.equal(first.text, 'Skip to content')
    assert.equal(first.href, '#main')
    assert.equal(first.outline, 'solid')
    assert.ok(first.left >= 0, 'the focused skip link is on screen')
    await page.keyboard.press('Enter')
    assert.equal(new URL(page.url()).hash, '#main')
    // Tab on: the next stops are links, each with a visible outline.
    await page.keyboard.press('Tab')
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab')
      const focus = await page.evaluate(() => ({ tag: document.activeElement.tagName, outline: getComputedStyle(document.activeElement).outlineStyle }))
      assert.equal(focus.tag, 'A')
      assert.equal(focus.outline, 'solid')
    }
    await context.close()
  })

  test('screenshots of the home page, a permalink page and a command\'s embed preview are kept', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 }, deviceScaleFactor: 1 })
    const page = await context.newPage()
    const shots = [
      ['home.png', '/', null],
      ['permalink-s2.1.png', '/statements/s2.1/', null],
      ['embed-preview-timeline.png', '/commands/timeline/', '.preview'],
    ]
    for (const [file, p, selector] of shots) {
      await page.goto(origin + p)
      const target = path.join(ARTIFACTS, file)
      if (selector) {
        await page.locator(selector).first().screenshot({ path: target })
      } else {
        await page.screenshot({ path: target, fullPage: true })
      }
      const png = fs.readFileSync(target)
      assert.ok(png.subarray(1, 4).toString() === 'PNG' && png.length > 10_000, `${file}: ${png.length} bytes`)
    }
    // The embed preview shows the chart the bot attaches, at its size.
    const image = page.locator('.preview .embed-image').first()
    assert.ok(await image.evaluate((i) => i.complete && i.naturalWidth === 800))
    console.log(`# screenshots in ${ARTIFACTS}`)
    await context.close()
  })

  test('the server answered everything without an error', () => {
    assert.doesNotMatch(output, /panicked|ERROR|WARN/)
  })
})
