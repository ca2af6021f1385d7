// End-to-end: the daily "on this day" post (issue 7) reaches a real channel of the local Discord.
// A moderator sets `/config onthisday` through the twin for the next UTC minute; the bot (polling
// every second) posts the day's `/onthisday` answer in that channel through the REST API, once.
// `cargo test --test e2e` runs it with BOT_BIN set (see bot.test.mjs).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ALL_PERMISSIONS, CallbackType, OptionType, startTwin } from './harness.mjs'

const BOT_BIN = process.env.BOT_BIN
if (!BOT_BIN && process.env.CI) {
  throw new Error('BOT_BIN is not set: under CI these tests must run, not be skipped (cargo test sets BOT_BIN)')
}
const skip = !BOT_BIN && 'BOT_BIN is not set (cargo test sets it to the binary it built)'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kr-e2e-schedule-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** What `ask --json` prints for a command. */
function ask(command) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DISCORD_') && !k.startsWith('KR_')))
  const r = spawnSync(BOT_BIN, ['ask', '--json', command], { cwd: tmp, env: base, encoding: 'utf8', timeout: 20_000 })
  if (r.error) throw r.error
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

/** The next whole UTC minute at least 8 s away, as a Date. */
function nextMinute(now = new Date()) {
  const t = new Date(now)
  t.setUTCSeconds(0, 0)
  t.setUTCMinutes(t.getUTCMinutes() + 1)
  if (t - now < 8_000) t.setUTCMinutes(t.getUTCMinutes() + 1)
  return t
}

const hhmm = (d) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`

describe('the daily post on a local Discord', { skip, timeout: 120_000 }, () => {
  let h
  let bot

  before(async () => {
    h = await startTwin()
    bot = h.spawnBot(BOT_BIN, {
      cwd: tmp,
      env: {
        KR_DATABASE: path.join(tmp, 'schedule.sqlite3'),
        KR_LOG: 'info',
        KR_DEV_GUILD: h.ids.guildId,
        KR_SCHEDULE_POLL_SECONDS: '1',
      },
    })
    await bot.waitForOutput(/connected to the gateway/)
    await h.waitForCommands({ names: ['config'], guildId: h.ids.guildId })
  })

  after(async () => {
    await h?.close()
  })

  test('a moderator sets /config onthisday for the next minute, and the channel gets the post once', async () => {
    const at = nextMinute()
    const r = await h.runCommand({
      name: 'config',
      permissions: ALL_PERMISSIONS,
      options: [{
        name: 'onthisday',
        type: 1,
        options: [
          { name: 'channel', type: OptionType.Channel, value: h.ids.channelId },
          { name: 'time', type: OptionType.String, value: hhmm(at) },
          { name: 'timezone', type: OptionType.String, value: 'UTC' },
          // The day may have nothing in the dataset: ask for the post anyway.
          { name: 'empty-days', type: OptionType.Boolean, value: true },
        ],
      }],
    })
    assert.equal(r.callback.status, 204)
    assert.equal(r.callback.type, CallbackType.ChannelMessage)
    const before = (await h.getMessages()).length

    const post = await h.waitForMessage({
      predicate: (m) => m.author?.id === h.ids.botId && m.embeds?.[0]?.title?.startsWith('On this day'),
      timeout: 75_000,
    })
    assert.ok(Date.now() >= at.getTime() - 1_000, `posted at ${new Date().toISOString()}, due ${at.toISOString()}`)

    // The post is the `/onthisday` answer for that UTC day, first page, sent through REST.
    const day = `${String(at.getUTCMonth() + 1).padStart(2, '0')}-${String(at.getUTCDate()).padStart(2, '0')}`
    const expected = ask(`/onthisday ${day}`).data
    assert.equal(post.embeds[0].title, expected.embeds[0].title)
    assert.equal(post.embeds[0].description, expected.embeds[0].description)
    const creates = h.requests.filter((q) => q.method === 'POST' && q.path === `/api/v10/channels/${h.ids.channelId}/messages`)
    assert.equal(creates.length, 1)
    assert.equal(creates[0].status, 200)
    // serenity's CreateAllowedMentions::new(), as in the interaction replies: nothing pings.
    assert.deepEqual(creates[0].body.allowed_mentions, { parse: [], users: [], roles: [] })
    assert.equal(creates[0].body.enforce_nonce, true)
    assert.match(creates[0].body.nonce, /^otd[0-9a-f]{16}$/)
    // Recorded as sent once Discord answered (the log line comes after the channel has it).
    await bot.waitForOutput(/posted the day's message/)

    // Once: one message from the bot in the channel, besides the reply to /config.
    const mine = (await h.getMessages()).filter((m) => m.author?.id === h.ids.botId && m.embeds?.[0]?.title?.startsWith('On this day'))
    assert.equal(mine.length, 1)
    assert.equal((await h.getMessages()).length, before + 1)
  })
})
