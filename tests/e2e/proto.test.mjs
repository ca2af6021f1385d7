// Proves harness.mjs against a throwaway serenity 0.12.5 bot (not part of this repo) whose path is
// BOT_BIN. The bot registers global `/ping text:<autocomplete>`, answers it with an embed, a
// `page:x:2` button and empty allowed_mentions (ephemeral in DMs), answers autocomplete with
// ALPHA/BETA/GAMMA filtered by prefix, and answers a `page:x:N` click with UPDATE_MESSAGE
// (embed "page N", button `page:x:1`). It prints READY / GUILD_CREATE / REGISTERED lines.
//   BOT_BIN=/path/to/twin-proto node --test tests/e2e/proto.test.mjs
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { ALL_PERMISSIONS, CallbackType, InteractionType, startTwin } from './harness.mjs'

const BOT_BIN = process.env.BOT_BIN

describe('harness against the serenity prototype bot', { skip: !BOT_BIN && 'BOT_BIN is not set', timeout: 120_000 }, () => {
  let h
  let bot
  let guildReply // the message /ping created in the guild channel
  let dmReply

  before(async () => {
    h = await startTwin({ username: 'alice' })
    bot = h.spawnBot(BOT_BIN, { env: { RUST_LOG: 'warn' } })
    await h.waitForGatewayReady()
    await bot.waitForOutput(/^GUILD_CREATE id=\d+/m)
    await h.waitForCommands({ names: ['ping'] })
    await bot.waitForOutput(/^REGISTERED /m) // the twin stores the commands before the bot hears back
  })

  after(async () => {
    await h?.close()
  })

  test('the twin listens on 127.0.0.1 only and gives the bot its env', () => {
    assert.match(h.apiBase, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(h.restUrl, `${h.apiBase}/api/v10`)
    assert.equal(h.gatewayUrl, `ws://127.0.0.1:${h.port}/gateway`)
    assert.equal(h.twin.server.httpServer.address().address, '127.0.0.1')
    assert.deepEqual(h.env({ A: '1' }), { DISCORD_TOKEN: h.token, DISCORD_API_BASE: h.apiBase, A: '1' })
    assert.equal(bot.exitInfo, null, 'bot still running')
  })

  test('serenity got the websocket URL from GET /gateway and identified with GUILDS', () => {
    const gw = h.requests.find((r) => r.path === '/api/v10/gateway')
    assert.ok(gw, 'bot asked GET /api/v10/gateway')
    assert.equal(gw.status, 200)
    assert.deepEqual(h.gatewayConnections.map((c) => c.url), ['/gateway?v=10'])
    const identify = h.gatewayReceived.find((p) => p.op === 2)
    assert.ok(identify, 'Identify received')
    assert.equal(identify.d.intents, 1)
    assert.equal(identify.d.token, '<redacted>')
    assert.match(bot.stdout(), new RegExp(`^READY user=${h.ids.botId} guilds=1$`, 'm'))
  })

  test('GUILD_CREATE carries role colors and serenity accepted it', () => {
    const gc = h.dispatches.find((d) => d.t === 'GUILD_CREATE')
    assert.ok(gc)
    assert.deepEqual(gc.d.roles[0].colors, { primary_color: 0, secondary_color: null, tertiary_color: null })
    assert.match(bot.stdout(), new RegExp(`^GUILD_CREATE id=${h.ids.guildId} roles=1 channels=1$`, 'm'))
  })

  test('registered commands: as stored by the twin and as sent by the bot', async () => {
    const cmds = await h.getCommands()
    assert.equal(cmds.length, 1)
    const [ping] = cmds
    assert.equal(ping.name, 'ping')
    assert.equal(ping.application_id, h.ids.applicationId)
    assert.equal(ping.options.length, 1)
    assert.equal(ping.options[0].name, 'text')
    assert.equal(ping.options[0].type, 3)
    assert.equal(ping.options[0].autocomplete, true)
    assert.equal(ping.options[0].required, true)
    assert.deepEqual(await h.getCommands({ guildId: h.ids.guildId }), [])

    const regs = h.commandRegistrations()
    assert.equal(regs.length, 1)
    assert.equal(regs[0].guildId, null)
    assert.equal(regs[0].status, 200)
    assert.equal(regs[0].body[0].name, 'ping')
    assert.equal(regs[0].body[0].options[0].max_length, 100)
    assert.match(bot.stdout(), new RegExp(`^REGISTERED ping=${ping.id}$`, 'm'))
  })

  test('slash command in the guild channel: type 4 with embed, button, empty allowed_mentions', async () => {
    const r = await h.runCommand({ name: 'ping', options: { text: 'hello' } })
    assert.equal(r.callback.status, 204)
    assert.equal(r.callback.type, CallbackType.ChannelMessage)
    const data = r.callback.data
    assert.equal(data.embeds.length, 1)
    assert.equal(data.embeds[0].title, 'pong: hello')
    assert.equal(data.embeds[0].description, `guild ${h.ids.guildId}`)
    assert.deepEqual(data.allowed_mentions, { parse: [], users: [], roles: [] })
    assert.equal(data.flags ?? 0, 0)
    assert.equal(data.components[0].type, 1)
    assert.equal(data.components[0].components[0].custom_id, 'page:x:2')
    assert.equal(r.channelId, h.ids.channelId)

    assert.ok(r.message, 'the reply is a message in the channel')
    assert.equal(r.message.author.id, h.ids.botId)
    assert.equal(r.message.embeds[0].title, 'pong: hello')
    guildReply = r.message

    const sent = h.dispatches.find((d) => d.t === 'INTERACTION_CREATE' && d.d.id === r.id)
    assert.equal(sent.d.guild_id, h.ids.guildId)
    assert.equal(sent.d.member.user.id, h.ids.userId)
    assert.match(bot.stdout(), new RegExp(`^COMMAND ping text="hello" in guild ${h.ids.guildId} by ${h.ids.userId}$`, 'm'))

    const messages = await h.getMessages()
    assert.deepEqual(messages.map((m) => m.id), [guildReply.id])
    const waited = await h.waitForMessage({ predicate: (m) => m.author.id === h.ids.botId })
    assert.equal(waited.id, guildReply.id)
  })

  test('slash command in a DM: no guild_id, member-less, ephemeral reply in the DM channel', async () => {
    const r = await h.runCommand({ name: 'ping', options: [{ name: 'text', type: 3, value: 'private' }], dm: true })
    assert.equal(r.callback.type, CallbackType.ChannelMessage)
    assert.equal(r.callback.data.flags, 64)
    assert.equal(r.callback.data.embeds[0].description, 'dm')
    assert.equal(r.channelId, h.ids.dmChannelId)
    const sent = h.dispatches.find((d) => d.t === 'INTERACTION_CREATE' && d.d.id === r.id)
    assert.equal(sent.d.guild_id, undefined)
    assert.equal(sent.d.member, undefined)
    assert.equal(sent.d.user.id, h.ids.userId)
    assert.equal(sent.d.context, 1)
    dmReply = r.message
    assert.ok(dmReply)
    assert.equal(dmReply.channel_id, h.ids.dmChannelId)
    assert.deepEqual((await h.getMessages({ dm: true })).map((m) => m.id), [dmReply.id])
    // The bot asked only for GUILDS, so the twin's MESSAGE_CREATE for the reply is not delivered.
    const mc = h.dispatches.filter((d) => d.t === 'MESSAGE_CREATE')
    assert.ok(mc.length >= 2)
    assert.ok(mc.every((d) => d.dropped), 'MESSAGE_CREATE withheld without message intents')
    assert.ok(mc.every((d) => d.d.guild_id !== ''), 'no empty guild_id')
  })

  test('autocomplete in the guild and in a DM: type 8 with choices', async () => {
    const g = await h.autocomplete({ name: 'ping', focused: 'text', value: 'g' })
    assert.equal(g.callback.type, CallbackType.AutocompleteResult)
    assert.deepEqual(g.choices, [{ name: 'GAMMA', value: 'gamma' }])
    const sent = h.dispatches.find((d) => d.t === 'INTERACTION_CREATE' && d.d.id === g.id)
    assert.equal(sent.d.type, InteractionType.Autocomplete)
    assert.equal(sent.d.data.options[0].focused, true)

    const d = await h.autocomplete({ name: 'ping', focused: 'text', value: '', dm: true })
    assert.deepEqual(d.choices.map((c) => c.value), ['alpha', 'beta', 'gamma'])
    assert.match(bot.stdout(), /^AUTOCOMPLETE typed="g"$/m)
  })

  test('member permissions can be set for one interaction', async () => {
    const r = await h.autocomplete({ name: 'ping', focused: 'text', value: 'b', permissions: 32 })
    assert.deepEqual(r.choices, [{ name: 'BETA', value: 'beta' }])
    const sent = h.dispatches.find((d) => d.t === 'INTERACTION_CREATE' && d.d.id === r.id)
    assert.equal(sent.d.member.permissions, '32')
    const next = await h.autocomplete({ name: 'ping', focused: 'text', value: 'b' })
    const sentNext = h.dispatches.find((d) => d.t === 'INTERACTION_CREATE' && d.d.id === next.id)
    assert.equal(sentNext.d.member.permissions, ALL_PERMISSIONS, 'back to the default')
  })

  test('button click in the guild: type 7 updates the same message', async () => {
    const r = await h.clickButton({ messageId: guildReply.id, customId: 'page:x:2' })
    assert.equal(r.callback.type, CallbackType.UpdateMessage)
    assert.equal(r.callback.data.embeds[0].title, 'page 2')
    assert.equal(r.message.id, guildReply.id)
    assert.equal(r.message.embeds[0].title, 'page 2')
    assert.equal(r.message.components[0].components[0].custom_id, 'page:x:1')
    assert.ok(r.message.edited_timestamp)
    const sent = h.dispatches.find((d) => d.t === 'INTERACTION_CREATE' && d.d.id === r.id)
    assert.equal(sent.d.data.custom_id, 'page:x:2')
    assert.equal(sent.d.message.id, guildReply.id)
    assert.equal((await h.getMessages()).length, 1, 'no new message')
    assert.match(bot.stdout(), new RegExp(`^COMPONENT custom_id=page:x:2 message=${guildReply.id}$`, 'm'))
  })

  test('button click in a DM', async () => {
    const r = await h.clickButton({ messageId: dmReply.id, customId: 'page:x:2', dm: true })
    assert.equal(r.callback.type, CallbackType.UpdateMessage)
    assert.equal(r.message.embeds[0].title, 'page 2')
  })

  test('low level: dispatchInteraction + waitForCallback + getCallback', async () => {
    const it = await h.dispatchInteraction({
      type: InteractionType.MessageComponent,
      data: { custom_id: 'page:x:7', component_type: 2 },
      messageId: guildReply.id,
    })
    const cb = await h.waitForCallback(it.id)
    assert.equal(cb.type, CallbackType.UpdateMessage)
    assert.equal(cb.data.embeds[0].title, 'page 7')
    assert.deepEqual(h.getCallback(it.id), cb)
    assert.equal(h.getCallback('1'), null)
    await assert.rejects(h.waitForCallback('1', { timeout: 200 }), /timed out after 200 ms/)
  })

  test('every REST request the bot made succeeded', () => {
    const bad = h.requests.filter((r) => r.status === null || r.status >= 400)
    assert.deepEqual(bad, [])
    const kinds = new Set(h.requests.map((r) => `${r.method} ${r.path.replace(/\d{5,}/g, ':id').replace(/\/[^/]*token[^/]*\//, '/:token/')}`))
    assert.deepEqual([...kinds].sort(), [
      'GET /api/v10/gateway',
      'POST /api/v10/interactions/:id/:token/callback',
      'PUT /api/v10/applications/:id/commands',
    ])
    assert.equal(h.callbacks().length, 9)
    assert.equal(bot.stderr(), '', 'no warnings from serenity')
  })

  test('GET /gateway/bot (the twin\'s own) gives the same websocket URL', async () => {
    const res = await fetch(`${h.restUrl}/gateway/bot`, { headers: { Authorization: `Bot ${h.token}` } })
    assert.equal(res.status, 200)
    const body = await res.json()
    assert.equal(body.url, h.gatewayUrl)
    assert.equal(body.shards, 1)
  })

  test('close() kills the bot and frees the port', async () => {
    const port = h.port
    await h.close()
    assert.ok(bot.exitInfo, 'bot exited')
    assert.equal(bot.exitInfo.signal, 'SIGTERM')
    const refused = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => { s.destroy(); resolve(false) })
      s.once('error', () => resolve(true))
    })
    assert.ok(refused, 'port closed')
  })
})
