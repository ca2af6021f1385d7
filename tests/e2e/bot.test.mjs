// End-to-end tests of the karabakh-reactions binary (BOT_BIN) on the gateway of a local Discord
// (discord-digital-twin, through harness.mjs). `cargo test` runs them (tests/e2e.rs), with BOT_BIN
// set to the binary it built:
//   BOT_BIN=target/debug/karabakh-reactions node --test tests/e2e/
// Every answer the bot sends is compared with what `karabakh-reactions ask --json` prints for the
// same command: the console and Discord go through the same core and renderer.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { CallbackType, InteractionType, botToken, httpKey, startTwin } from './harness.mjs'

const BOT_BIN = process.env.BOT_BIN
if (!BOT_BIN && process.env.CI) {
  throw new Error('BOT_BIN is not set: under CI these tests must run, not be skipped (cargo test sets BOT_BIN)')
}
const skip = !BOT_BIN && 'BOT_BIN is not set (cargo test sets it to the binary it built)'

/** Working directory and databases of every bot started here (no config/bot.toml in it). */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kr-e2e-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

let databases = 0
/** Env for one bot: its own settings database, info logs, no development server unless given. */
function botEnv(extra = {}) {
  databases += 1
  return { KR_DATABASE: path.join(tmp, `bot-${databases}.sqlite3`), KR_LOG: 'info', KR_DEV_GUILD: '', ...extra }
}

/** Runs the binary to completion (no Discord): {code, stdout, stderr}. */
function run(args, env = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DISCORD_') && !k.startsWith('KR_')))
  const r = spawnSync(BOT_BIN, args, { cwd: tmp, env: { ...base, ...env }, encoding: 'utf8', timeout: 20_000 })
  if (r.error) throw r.error
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** What `ask --json` prints for a command (every page with allPages, autocomplete with autocomplete). */
function ask(command, { allPages = false, autocomplete = false } = {}) {
  const flags = ['--json', ...(allPages ? ['--all-pages'] : []), ...(autocomplete ? ['--autocomplete'] : [])]
  const r = run(['ask', ...flags, command])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

let fileDirs = 0
/** The files `ask --files DIR` writes for a command: Map of file name to bytes. */
function askFiles(command) {
  fileDirs += 1
  const dir = path.join(tmp, `files-${fileDirs}`)
  const r = run(['ask', '--files', dir, command])
  assert.equal(r.code, 0, r.stderr)
  const files = new Map()
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) files.set(name, fs.readFileSync(path.join(dir, name)))
  return files
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/**
 * Checks a reply that attaches its chart: one file, `files[0]`, named in data.attachments (id 0,
 * its text alternative as the description, also the embed's Chart field), the embed's image at
 * attachment://, the PNG `ask --files` writes; and the message in the channel has the attachment,
 * whose url serves the same bytes.
 */
async function assertChart(h, callback, message, command, filename) {
  assert.ok(callback.multipart, `${command}: a multipart callback`)
  assert.equal(callback.files.length, 1)
  const [file] = callback.files
  assert.equal(file.field, 'files[0]')
  assert.equal(file.filename, filename)
  assert.equal(file.contentType, 'image/png')
  assert.ok(file.bytes.subarray(0, 8).equals(PNG_SIGNATURE), 'a PNG')
  assert.ok(file.bytes.equals(askFiles(command).get(filename)), 'the picture `ask --files` draws')
  const [attachment] = callback.data.attachments
  assert.equal(callback.data.attachments.length, 1)
  assert.equal(attachment.id, 0)
  assert.equal(attachment.filename, filename)
  const embed = callback.data.embeds[0]
  assert.equal(embed.image.url, `attachment://${filename}`)
  assert.deepEqual(embed.fields.at(-1), { name: 'Chart', value: attachment.description, inline: false })
  assert.ok(message, 'the answer is in the channel')
  assert.equal(message.attachments.length, 1)
  const stored = message.attachments[0]
  assert.equal(stored.filename, filename)
  assert.equal(stored.description, attachment.description)
  assert.equal(stored.content_type, 'image/png')
  assert.equal(stored.size, file.bytes.length)
  assert.ok(stored.width === 800 && (stored.height === 400 || stored.height === 260), `${stored.width}×${stored.height}`)
  const fetched = await h.fetchAttachment(stored)
  assert.equal(fetched.status, 200)
  assert.ok(fetched.bytes.equals(file.bytes), 'the attachment serves the same bytes')
}

/** The command definitions `register --print` shows. */
function printedDefinitions() {
  const r = run(['register', '--print'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

/** The embed's visible text: title, description, fields, footer. */
function embedText(embed) {
  return [embed.title, embed.description, ...(embed.fields ?? []).flatMap((f) => [f.name, f.value]), embed.footer?.text].join('\n')
}

/** Citation 55 as the embed shows it: `[55]`, escaped, linking to the article's references. */
const CITES_55 = '[\\[55\\]](https://en.wikipedia.org/wiki/International_reactions_to_the_Second_Nagorno-Karabakh_War#References)'

function nonEmptyLines(text) {
  return text.split('\n').filter((l) => l.trim() !== '')
}

describe('the bot on a local Discord', { skip, timeout: 60_000 }, () => {
  let h
  let bot
  let printed

  before(async () => {
    printed = printedDefinitions()
    h = await startTwin()
    bot = h.spawnBot(BOT_BIN, { cwd: tmp, env: botEnv({ KR_DEV_GUILD: h.ids.guildId }) })
    await bot.waitForOutput(/connected to the gateway/)
  })

  after(async () => {
    await h?.close()
  })

  test('checks the token with one REST call, then connects with no intents, sharded automatically', () => {
    assert.deepEqual(
      h.requests.slice(0, 2).map((r) => [r.method, r.path, r.status]),
      [['GET', '/api/v10/users/@me', 200], ['GET', '/api/v10/gateway', 200]],
    )
    assert.ok(h.requests.some((r) => r.method === 'GET' && r.path === '/api/v10/gateway/bot' && r.status === 200), 'asked how many shards')
    assert.equal(h.gatewayConnections.length, 1)
    const identifies = h.gatewayReceived.filter((p) => p.op === 2)
    assert.equal(identifies.length, 1)
    assert.equal(identifies[0].d.intents, 0, 'no intents')
    assert.deepEqual(identifies[0].d.shard, [0, 1])
    assert.match(bot.output(), /connected to the gateway shard=0 shards=1 bot=karabakh-reactions guilds=1/)
  })

  test('registers the command table for the development server, exactly as `register --print` shows it', async () => {
    const regs = h.commandRegistrations()
    assert.equal(regs.length, 1)
    assert.equal(regs[0].guildId, h.ids.guildId)
    assert.equal(regs[0].applicationId, h.ids.applicationId)
    assert.equal(regs[0].status, 200)
    assert.deepEqual(regs[0].body, printed)

    const names = printed.map((c) => c.name)
    assert.deepEqual(names, ['reaction', 'timeline', 'search', 'topic', 'source', 'onthisday', 'config', 'about', 'help'])
    const stored = await h.getCommands({ guildId: h.ids.guildId })
    assert.deepEqual(stored.map((c) => c.name).sort(), [...names].sort())
    const reaction = printed[0]
    assert.deepEqual(reaction.contexts, [0, 1, 2])
    assert.equal(reaction.options.find((o) => o.name === 'actor').autocomplete, true)
    const config = printed.find((c) => c.name === 'config')
    assert.deepEqual(config.contexts, [0], '/config only in servers')
    assert.equal(config.default_member_permissions, '32', '/config for Manage Server by default')
    assert.deepEqual(await h.getCommands(), [], 'nothing global')
  })

  test('/reaction Hungary in a server channel: an embed citing [55], as `ask` shows it', async () => {
    const r = await h.runCommand({ name: 'reaction', options: { actor: 'Hungary' } })
    assert.equal(r.callback.status, 204)
    assert.equal(r.callback.type, CallbackType.ChannelMessage)
    assert.deepEqual(r.callback.body, ask('/reaction Hungary'))
    const embed = r.callback.data.embeds[0]
    assert.match(embed.title, /Hungary/)
    assert.ok(embedText(embed).includes(CITES_55), 'cites [55], linked to the references')
    assert.equal(r.callback.data.flags ?? 0, 0, 'public')
    assert.deepEqual(r.callback.data.allowed_mentions, { parse: [], users: [], roles: [] })
    assert.ok(r.message, 'the answer is in the channel')
    assert.equal(r.message.author.id, h.ids.botId)
    assert.ok(embedText(r.message.embeds[0]).includes(CITES_55))
  })

  test('autocomplete for /reaction actor:Tur offers Turkey', async () => {
    const r = await h.autocomplete({ name: 'reaction', focused: 'actor', value: 'Tur' })
    assert.equal(r.callback.type, CallbackType.AutocompleteResult)
    assert.deepEqual(r.choices[0], { name: 'Turkey', value: 'Turkey' }, JSON.stringify(r.choices))
    assert.deepEqual(r.callback.body, ask('/reaction actor:Tur', { autocomplete: true }))
  })

  test('a page button turns the page: a type 7 update to page 2', async () => {
    const first = await h.runCommand({ name: 'reaction', options: { actor: 'Turkey' } })
    const pages = ask('/reaction Turkey', { allPages: true })
    assert.deepEqual(first.callback.body, pages[0])
    assert.match(first.callback.data.embeds[0].footer.text, /page 1\/\d+$/)
    const next = first.callback.data.components[0].components.find((b) => !b.disabled && /:2$/.test(b.custom_id))
    assert.ok(next, 'a button to page 2')

    const r = await h.clickButton({ messageId: first.message.id, customId: next.custom_id })
    assert.equal(r.callback.type, CallbackType.UpdateMessage)
    assert.deepEqual(r.callback.body, pages[1])
    assert.match(r.callback.data.embeds[0].footer.text, /page 2\/\d+$/)
    assert.equal(r.message.id, first.message.id, 'the same message')
    assert.match(r.message.embeds[0].footer.text, /page 2\/\d+$/)
  })

  test('/timeline 2020-10: the chart arrives as a file through the callback, as `ask` shows it', async () => {
    const r = await h.runCommand({ name: 'timeline', options: { date: '2020-10' } })
    assert.equal(r.callback.status, 204, r.callback.error)
    assert.equal(r.callback.type, CallbackType.ChannelMessage)
    assert.deepEqual(r.callback.body, ask('/timeline 2020-10'))
    await assertChart(h, r.callback, r.message, '/timeline 2020-10', 'timeline.png')
    assert.match(r.callback.data.attachments[0].description, /^Bar chart of \d+ dated statements per day in October 2020/)
  })

  test('/about and /reaction Turkey attach the coverage and the actor\'s strip; page 2 takes the picture off and page 1 puts it back', async () => {
    const about = await h.runCommand({ name: 'about' })
    assert.deepEqual(about.callback.body, ask('/about'))
    await assertChart(h, about.callback, about.message, '/about', 'coverage.png')

    const first = await h.runCommand({ name: 'reaction', options: { actor: 'Turkey' } })
    await assertChart(h, first.callback, first.message, '/reaction Turkey', 'strip.png')
    const next = first.callback.data.components[0].components.find((b) => b.custom_id?.endsWith(':2'))
    const second = await h.clickButton({ messageId: first.message.id, customId: next.custom_id })
    assert.equal(second.callback.type, CallbackType.UpdateMessage)
    assert.equal(second.callback.multipart, null, 'page 2 is JSON')
    assert.deepEqual(second.callback.data.attachments, [], 'and asks Discord to remove the picture')
    assert.equal(second.message.attachments.length, 0)
    assert.equal(second.message.embeds[0].image, undefined)
    const back = second.callback.data.components[0].components.find((b) => b.custom_id?.endsWith(':1'))
    const again = await h.clickButton({ messageId: first.message.id, customId: back.custom_id })
    assert.equal(again.callback.type, CallbackType.UpdateMessage)
    await assertChart(h, again.callback, again.message, '/reaction Turkey', 'strip.png')
  })

  test('a command in a DM', async () => {
    const r = await h.runCommand({ name: 'reaction', options: { actor: 'Hungary' }, dm: true })
    assert.equal(r.channelId, h.ids.dmChannelId)
    assert.equal(r.callback.type, CallbackType.ChannelMessage)
    assert.deepEqual(r.callback.body, ask('/reaction Hungary'))
    const sent = h.dispatches.find((d) => d.t === 'INTERACTION_CREATE' && d.d.id === r.id)
    assert.equal(sent.d.guild_id, undefined, 'no server')
    assert.ok(r.message)
    assert.equal(r.message.channel_id, h.ids.dmChannelId)
  })

  test('an unknown actor gets a private reply (flags 64)', async () => {
    const r = await h.runCommand({ name: 'reaction', options: { actor: 'Turky' } })
    assert.equal(r.callback.type, CallbackType.ChannelMessage)
    assert.equal(r.callback.data.flags, 64)
    assert.match(r.callback.data.embeds[0].description, /Did you mean: Turkey/)
    assert.deepEqual(r.callback.body, ask('/reaction Turky'))
  })

  test('a reply that echoes @everyone pings no one', async () => {
    const r = await h.runCommand({ name: 'search', options: { query: '@everyone @here' } })
    assert.deepEqual(r.callback.data.allowed_mentions, { parse: [], users: [], roles: [] })
    const sent = JSON.stringify(r.callback.body)
    assert.ok(!/@everyone|@here/.test(sent), `raw mention in ${sent}`)
    assert.match(embedText(r.callback.data.embeds[0]), /@\u200beveryone @\u200bhere/, 'echoed, neutralised')
  })

  test('`register` overwrites the commands for one server and globally, with the same definitions', async () => {
    for (const [args, guildId] of [[['register', '--guild', h.ids.guildId], h.ids.guildId], [['register'], null]]) {
      const before = h.commandRegistrations().length
      const reg = h.spawnBot(BOT_BIN, { args, cwd: tmp, env: botEnv() })
      const exit = await reg.exited
      assert.deepEqual(exit, { code: 0, signal: null }, reg.output())
      const where = guildId ? `for server ${guildId}` : 'globally'
      assert.match(reg.stdout(), new RegExp(`^registered ${printed.length} commands ${where} for karabakh-reactions: reaction, timeline, `))
      const regs = h.commandRegistrations().slice(before)
      assert.equal(regs.length, 1)
      assert.equal(regs[0].guildId, guildId)
      assert.equal(regs[0].status, 200)
      assert.deepEqual(regs[0].body, printed)
      assert.equal((await h.getCommands({ guildId })).length, printed.length)
    }
  })

  test('every REST request succeeded and no output shows the token', () => {
    const bad = h.requests.filter((r) => r.status === null || r.status >= 400)
    assert.deepEqual(bad, [])
    const secretPart = h.token.split('.')[2]
    for (const b of [bot]) {
      assert.ok(!b.output().includes(secretPart), 'the token is not in the output')
      assert.doesNotMatch(b.output(), /panicked|ERROR|WARN/)
    }
  })

  test('SIGTERM shuts the shards down and exits 0', async () => {
    const exit = await bot.kill({ graceMs: 15_000 })
    assert.deepEqual(exit, { code: 0, signal: null }, bot.tail(20))
    assert.match(bot.output(), /shutting down the shards signal="?SIGTERM/)
    assert.match(nonEmptyLines(bot.output()).at(-1), /stopped/)
    await h.waitFor('the websocket to close', () => h.twin.server.gateway.clients.length === 0, { timeout: 5_000 })
  })
})

describe('the HTTP interactions endpoint (`serve`) on a local Discord', { skip, timeout: 60_000 }, () => {
  let h
  let bot
  let url

  before(async () => {
    h = await startTwin()
    // No token: serve answers interactions without one (and sends no daily posts).
    bot = h.spawnBot(BOT_BIN, {
      args: ['serve', '--listen', '127.0.0.1:0'],
      cwd: tmp,
      env: botEnv({ DISCORD_TOKEN: '', DISCORD_PUBLIC_KEY: httpKey.publicHex }),
    })
    const m = await bot.waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+\/interactions)/)
    url = m[1]
  })

  after(async () => {
    await h?.close()
  })

  test('PING is answered with PONG', async () => {
    const r = await h.deliverOverHttp({ url, type: InteractionType.Ping })
    assert.equal(r.response.status, 200)
    assert.equal(r.response.contentType, 'application/json')
    assert.deepEqual(JSON.parse(r.response.raw.toString('utf8')), { type: 1 })
  })

  test('/timeline 2020-10: a multipart/form-data response that Discord takes as the answer, the same as through the gateway', async () => {
    const data = { id: '1', name: 'timeline', type: 1, options: [{ name: 'date', type: 3, value: '2020-10' }] }
    const r = await h.deliverOverHttp({ url, type: InteractionType.ApplicationCommand, data })
    assert.equal(r.response.status, 200)
    assert.match(r.response.contentType, /^multipart\/form-data; boundary=/)
    assert.ok(r.response.raw.length < 80 * 1024, `${r.response.raw.length} bytes, under Discord's limit for responses`)
    // Node's own multipart parser reads it: a payload_json part and files[0].
    const form = await new Response(r.response.raw, { headers: { 'content-type': r.response.contentType } }).formData()
    assert.deepEqual([...form.keys()].sort(), ['files[0]', 'payload_json'])
    assert.deepEqual(JSON.parse(form.get('payload_json')), ask('/timeline 2020-10'))
    assert.equal(r.callback.status, 204, r.callback.error)
    assert.deepEqual(r.callback.body, ask('/timeline 2020-10'))
    await assertChart(h, r.callback, r.message, '/timeline 2020-10', 'timeline.png')
  })

  test('an answer without a chart is JSON; a page button updates the message and takes the picture off', async () => {
    const hungary = await h.deliverOverHttp({
      url,
      type: InteractionType.ApplicationCommand,
      data: { id: '1', name: 'reaction', type: 1, options: [{ name: 'actor', type: 3, value: 'Hungary' }] },
    })
    assert.equal(hungary.response.contentType, 'application/json')
    assert.deepEqual(JSON.parse(hungary.response.raw.toString('utf8')), ask('/reaction Hungary'))
    assert.ok(hungary.message, 'the answer is in the channel')

    const turkey = await h.deliverOverHttp({
      url,
      type: InteractionType.ApplicationCommand,
      data: { id: '1', name: 'reaction', type: 1, options: [{ name: 'actor', type: 3, value: 'Turkey' }] },
    })
    await assertChart(h, turkey.callback, turkey.message, '/reaction Turkey', 'strip.png')
    const pages = ask('/reaction Turkey', { allPages: true })
    const click = await h.deliverOverHttp({
      url,
      type: InteractionType.MessageComponent,
      data: { custom_id: 'page:reaction:turkey:2', component_type: 2 },
      messageId: turkey.message.id,
    })
    assert.equal(click.response.contentType, 'application/json')
    assert.deepEqual(click.callback.body, pages[1])
    assert.equal(click.message.attachments.length, 0)
  })

  test('every request succeeded; SIGTERM stops it with exit 0', async () => {
    const bad = h.requests.filter((r) => r.status === null || r.status >= 400)
    assert.deepEqual(bad, [])
    const exit = await bot.kill({ graceMs: 10_000 })
    assert.deepEqual(exit, { code: 0, signal: null }, bot.tail(20))
    assert.doesNotMatch(bot.output(), /panicked|ERROR|WARN/)
  })
})

describe('a slice of the shards', { skip, timeout: 30_000 }, () => {
  let h
  after(async () => {
    await h?.close()
  })

  test('--shards 1-1 --total-shards 2 identifies as shard 1 of 2, leaves registration to shard 0, stops on SIGINT', async () => {
    h = await startTwin()
    const bot = h.spawnBot(BOT_BIN, {
      args: ['--shards', '1-1', '--total-shards', '2'],
      cwd: tmp,
      env: botEnv({ KR_DEV_GUILD: h.ids.guildId }),
    })
    await bot.waitForOutput(/connected to the gateway shard=1 shards=2/)
    const identifies = h.gatewayReceived.filter((p) => p.op === 2)
    assert.deepEqual(identifies.map((p) => p.d.shard), [[1, 2]])
    assert.ok(!h.requests.some((r) => r.path === '/api/v10/gateway/bot'), 'no automatic sharding')
    assert.deepEqual(h.commandRegistrations(), [], 'shard 0 registers the development server, not this slice')

    const r = await h.runCommand({ name: 'about' })
    assert.deepEqual(r.callback.body, ask('/about'))

    bot.process.kill('SIGINT')
    const exit = await bot.exited
    assert.deepEqual(exit, { code: 0, signal: null }, bot.tail(20))
    assert.match(bot.output(), /shutting down the shards signal="?SIGINT/)
  })
})

/** The value of one sample in Prometheus text (`name{labels} value`), or undefined. */
function sample(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('two gateway processes, each a slice of the shards', { skip, timeout: 90_000 }, () => {
  let h
  after(async () => {
    await h?.close()
  })

  test('each answers its own servers, they identify in turn, commands are registered once, and each admin address reports its shard', async () => {
    // Discord routes as the bot expects: guild k's events go to shard (guild_id >> 22) % 2 = k.
    h = await startTwin({ shards: 2 })
    const [g0, g1] = h.ids.guilds
    // Each process has its own database here (SQLite); on PostgreSQL they share one.
    const start = (slice) => h.spawnBot(BOT_BIN, {
      args: ['--shards', slice, '--total-shards', '2'],
      cwd: tmp,
      env: botEnv({ KR_DEV_GUILD: g0.guildId, KR_ADMIN_LISTEN: '127.0.0.1:0' }),
    })
    const p0 = start('0-0')
    const p1 = start('1-1')
    const [, admin0] = await p0.waitForOutput(/admin on http:\/\/(\S+)/)
    const [, admin1] = await p1.waitForOutput(/admin on http:\/\/(\S+)/)
    const health = async (admin) => {
      const r = await fetch(`http://${admin}/healthz`)
      return { status: r.status, body: await r.json() }
    }

    // The second slice waits its turn (one identify per 5 s): unhealthy until its shard connects.
    await p0.waitForOutput(/connected to the gateway shard=0 shards=2/)
    const waiting = await health(admin1)
    assert.equal(waiting.status, 503, JSON.stringify(waiting.body))
    assert.equal(waiting.body.role, 'gateway')
    assert.equal(waiting.body.checks.shards.ok, false)
    await p1.waitForOutput(/connected to the gateway shard=1 shards=2/, { timeout: 20_000 })

    const identifies = h.gatewayReceived.filter((p) => p.op === 2)
    assert.deepEqual(identifies.map((p) => p.d.shard), [[0, 2], [1, 2]])
    assert.ok(identifies[1].at - identifies[0].at >= 5000, `identifies ${identifies[1].at - identifies[0].at} ms apart`)
    const ready = h.dispatches.filter((d) => d.t === 'READY' && !d.dropped)
    assert.deepEqual(ready.map((d) => d.d.guilds.map((g) => g.id)), [[g0.guildId], [g1.guildId]], 'each shard hears of its own server')

    // Only the process with shard 0 registers the development server's commands: once.
    await h.waitForCommands({ guildId: g0.guildId, names: ['reaction', 'about'] })
    assert.equal(h.commandRegistrations().length, 1)
    assert.match(p1.output(), /the daily posts are sent by the process that runs shard 0/)

    // Each process answers its own servers, and only those.
    const r0 = await h.runCommand({ name: 'about', guildId: g0.guildId })
    const r1 = await h.runCommand({ name: 'about', guildId: g1.guildId })
    assert.deepEqual(r0.callback.body, ask('/about'))
    assert.deepEqual(r1.callback.body, ask('/about'))
    // (The log line follows the callback.)
    await p0.waitForOutput(new RegExp(`interaction answered.* guild=${g0.guildId}`))
    await p1.waitForOutput(new RegExp(`interaction answered.* guild=${g1.guildId}`))
    assert.doesNotMatch(p0.output(), new RegExp(`guild=${g1.guildId}`))
    assert.doesNotMatch(p1.output(), new RegExp(`guild=${g0.guildId}`))

    for (const [admin, shard] of [[admin0, 0], [admin1, 1]]) {
      const healthy = await health(admin)
      assert.equal(healthy.status, 200, JSON.stringify(healthy.body))
      assert.deepEqual(healthy.body.checks.shards, { ok: true, shards: `${shard}-${shard}`, total: 2, connected: 1 })
      assert.equal(healthy.body.checks.store.ok, true)
      const text = await (await fetch(`http://${admin}/metrics`)).text()
      assert.equal(sample(text, `kr_gateway_shard_connected{shard="${shard}"}`), 1, text)
      assert.equal(sample(text, 'kr_interactions_total{command="about",kind="command",outcome="ok"}'), 1, text)
      assert.equal(sample(text, 'kr_gateway_events_total{event="INTERACTION_CREATE"}'), 1, text)
    }

    for (const p of [p0, p1]) {
      const exit = await p.kill({ graceMs: 10_000 })
      assert.deepEqual(exit, { code: 0, signal: null }, p.tail(20))
      assert.doesNotMatch(p.output(), /panicked|ERROR|WARN/)
    }
  })
})

describe('refusals', { skip, timeout: 30_000 }, () => {
  const twins = []
  after(async () => {
    await Promise.all(twins.map((t) => t.close()))
  })

  /** Checks a refusal: exit 1, the last line one sentence starting `karabakh-reactions: `. */
  function assertRefused(bot, exit, sentence, token) {
    assert.deepEqual(exit, { code: 1, signal: null }, bot.tail(20))
    const last = nonEmptyLines(bot.stderr()).at(-1)
    assert.match(last, new RegExp(`^karabakh-reactions: ${sentence}`))
    assert.equal(last.split('. ').length, 1, `one sentence: ${last}`)
    assert.ok(!bot.output().includes(token.split('.')[2]), 'the token is not in the output')
    assert.doesNotMatch(bot.output(), /panicked/)
  }

  test('a token Discord rejects: one sentence, exit 1, one request and no gateway connection', async () => {
    const h = await startTwin()
    twins.push(h)
    const wrong = botToken(h.ids.botId)
    const bot = h.spawnBot(BOT_BIN, { cwd: tmp, env: botEnv({ DISCORD_TOKEN: wrong }) })
    const exit = await bot.exited
    assertRefused(bot, exit, 'Discord rejected the token \\(401 Unauthorized\\)', wrong)
    assert.deepEqual(h.requests.map((r) => [r.method, r.path, r.status]), [['GET', '/api/v10/users/@me', 401]])
    assert.equal(h.gatewayConnections.length, 0)
  })

  test('a token the gateway rejects (close 4004): the bot stops instead of reconnecting', async () => {
    const h = await startTwin({ restAuth: false })
    twins.push(h)
    const wrong = botToken(h.ids.botId)
    const bot = h.spawnBot(BOT_BIN, { cwd: tmp, env: botEnv({ DISCORD_TOKEN: wrong }) })
    const exit = await bot.exited
    assertRefused(bot, exit, 'Discord rejected the token \\(the gateway closed the connection with 4004', wrong)
    assert.equal(h.gatewayConnections.length, 1, 'no second attempt')
    assert.equal(h.gatewayReceived.filter((p) => p.op === 2).length, 1, 'one Identify')
  })

  test('`register` with a rejected token', async () => {
    const h = await startTwin()
    twins.push(h)
    const wrong = botToken(h.ids.botId)
    const bot = h.spawnBot(BOT_BIN, { args: ['register'], cwd: tmp, env: botEnv({ DISCORD_TOKEN: wrong }) })
    const exit = await bot.exited
    assertRefused(bot, exit, 'Discord rejected the token \\(401 Unauthorized\\)', wrong)
    assert.deepEqual(h.commandRegistrations(), [])
  })
})
