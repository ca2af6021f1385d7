// End-to-end test harness: runs the bot binary against discord-digital-twin 0.1.1, an in-memory
// Discord (REST under /api/v10 and a gateway on one port), and drives it as a user would.
// Used by node's built-in test runner (`node --test`); bot.test.mjs uses it against our binary.
//
// Adjustments a serenity 0.12.5 bot needs, and why:
//
// 1. npm override `"spiceflow": "1.19.0"` (package.json): the twin pins spiceflow 1.26.0-rsc.3,
//    which the registry does not have, so `npm install` fails without it.
// 2. GET /api/v10/gateway: serenity's Client::start asks `GET /gateway` (not `/gateway/bot`) for
//    the websocket URL; the twin only has `/gateway/bot` and answers 404, and serenity then falls
//    back to wss://gateway.discord.gg. The harness answers `GET /api/v10/gateway` itself with
//    `{"url": "ws://127.0.0.1:PORT/gateway"}`, without a query: serenity appends `?v=10` itself
//    (it connects to `/gateway?v=10`, never asks `encoding=`; JSON is the default) and the twin's
//    upgrade handler matches the path only. `/gateway/bot` (used by autosharding) is the twin's
//    own and gives the same URL. Plain ws:// works: serenity 0.12.5 connects with
//    tokio-tungstenite, which uses rustls only for wss://.
// 3. Role `colors`: serenity 0.12.5's Role requires `colors` ({primary_color, secondary_color,
//    tertiary_color}); the twin's roles have none, so serenity fails to parse GUILD_CREATE, logs it
//    at DEBUG as an UnknownEvent and the bot never sees its guild. The harness wraps the twin's
//    `gateway.sendDispatch` and adds `colors` to every role in `d.roles` and `d.role`
//    (fixDispatch below).
//
// 4. GET /api/v10/oauth2/applications/@me: serenity's `get_current_application_info` (used by
//    `register` to learn the application id) asks this path; the twin serves the same answer at
//    `/applications/@me`, so the harness rewrites the path.
//
// Further limits of the twin, and what the harness does about each:
//
// - It checks no token on REST (only on Identify). The harness answers 401 `{"message": "401:
//   Unauthorized", "code": 0}` to any /api/v10 request whose `Authorization` is not `Bot <token>`,
//   as Discord does, except interaction callbacks, webhooks and GET /gateway (no token needed);
//   `startTwin({restAuth: false})` turns that off (to reach the gateway with a token it rejects).
// - The default token is shaped like Discord's (botToken below): the bot checks the shape.
//
// - It binds every interface: DigitalDiscord#start() calls `httpServer.listen(0, cb)`. startTwin()
//   patches http.Server.prototype.listen for that one call so it binds 127.0.0.1, and checks the
//   bound address afterwards.
// - A DM MESSAGE_CREATE carries `guild_id: ""`, which serenity rejects (UnknownEvent):
//   fixDispatch drops an empty `guild_id`.
// - It ignores intents and sends MESSAGE_CREATE/UPDATE/DELETE, reactions and typing to every
//   client. The harness withholds those unless the client's Identify asked for the matching
//   GUILD_*/DIRECT_* intent (requiredIntent below); withheld ones stay in `dispatches` with
//   `dropped`.
// - No interactions in a DM: DigitalDiscord#simulateInteraction always sets `guild_id` and
//   `member`. The harness creates a DM channel (type 1, no guild) in the twin's database, inserts
//   the InteractionResponse row that the twin's callback route looks up, and broadcasts
//   INTERACTION_CREATE itself with `user`, `channel: {type: 1}`, `context: 1`, no guild_id/member.
// - No autocomplete helper: the harness sends type 4 with `focused: true` on the typed option
//   through simulateInteraction (guild) or its own DM dispatch. The twin's
//   `POST /interactions/{id}/{token}/callback` accepts type 8 and only records it.
// - Buttons exist only in guilds (ScopedUserActor#clickButton); DM clicks use the DM dispatch with
//   the stored message as `message`.
// - Member permissions are whatever the member row holds (default 1099511627775, everything):
//   `permissions` on an interaction helper sets them for that one dispatch.
// - The twin keeps only `type` and `data` of an accepted callback and nothing of a rejected one.
//   The harness wraps the HTTP request listener and logs every REST request (method, path,
//   status, parsed JSON body); callbacks and command registrations are read from that log as the
//   bot sent them (the twin's stored commands drop fields such as `contexts`).
// - Its default database `file::memory:?cache=shared` is shared by every twin in a process: each
//   startTwin() uses its own SQLite file in a temporary directory, deleted by close().
// - stopServer() waits for keep-alive sockets: close() kills the bots, then closes every
//   remaining connection.
// - Files: the twin reads every request body as JSON, so an interaction callback with a file
//   (multipart/form-data: a `payload_json` part and `files[n]` parts, as serenity sends it through
//   the gateway and as the HTTP endpoint answers) fails there. The harness takes such a callback
//   itself: it parses the body with Node's own multipart parser (undici's Response#formData),
//   refuses one that is not Discord's shape (no payload_json, a part other than files[n], a file
//   that data.attachments does not name) with 400 "Invalid Form Body", logs the payload as the
//   callback's body and the files beside it, and hands the twin the payload_json as JSON. The
//   twin stores no attachments either: after any callback that creates or updates a message
//   (type 4 or 7) carrying `data.attachments`, the harness writes them into the message
//   (id, filename, description, content_type, size, width and height read from a PNG's header,
//   url), so `attachments: []` clears them as on Discord; it serves each file's bytes at its url
//   (GET /attachments/...). The MESSAGE_CREATE the twin broadcasts goes out before that, without
//   attachments; messages read back (getMessages) have them.
// - HTTP interactions: the twin delivers interactions only over its gateway. deliverOverHttp()
//   does what Discord does for an interactions endpoint URL: it records the interaction in the
//   twin, POSTs it to the bot signed with an Ed25519 key of the harness's own (httpKey), and
//   hands the bot's response, JSON or multipart, as it came, to the twin's callback route (so the
//   multipart handling above reads it as it reads serenity's).
// - No shards: the twin sends every guild and every event to every identified client, and ignores
//   `shard` in Identify. With `startTwin({shards: N})` the harness routes as Discord does: it keeps
//   each client's `[shard_id, num_shards]` from its Identify and, in the sendDispatch wrapper,
//   sends a client only the events of its own guilds (`(guild_id >> 22) % num_shards`, DMs and
//   guild-less events to shard 0), READY listing only those guilds; withheld ones stay in
//   `dispatches` with `dropped`. The twin then holds N guilds, guild k on shard k
//   (`ids.guilds[k]`, each with a text channel; ids.guildId/channelId are guild 0's).
// - No gateway Resume, no rate limits (the bot must run with serenity's rate limiter disabled,
//   which a proxy needs anyway), heartbeat interval fixed at 45 s.

import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { DigitalDiscord, generateSnowflake } from 'discord-digital-twin'

export const InteractionType = Object.freeze({ Ping: 1, ApplicationCommand: 2, MessageComponent: 3, Autocomplete: 4, ModalSubmit: 5 })
export const CallbackType = Object.freeze({ Pong: 1, ChannelMessage: 4, DeferredChannelMessage: 5, DeferredUpdateMessage: 6, UpdateMessage: 7, AutocompleteResult: 8, Modal: 9 })
export const OptionType = Object.freeze({ String: 3, Integer: 4, Boolean: 5, User: 6, Channel: 7, Role: 8, Number: 10 })
/** Bits 0-39 set: the twin's default member.permissions and app_permissions. */
export const ALL_PERMISSIONS = '1099511627775'

const API_PREFIX = '/api/v10'
const CALLBACK_PATH = /^\/api\/v10\/interactions\/(\d+)\/([^/]+)\/callback$/
/** Paths Discord serves without the bot token: interaction callbacks, webhooks, GET /gateway. */
const NO_AUTH_PATH = /^\/api\/v10\/(interactions\/|webhooks\/|gateway\/?$)/
const COMMANDS_PATH = /^\/api\/v10\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/
const ATTACHMENT_PATH = /^\/attachments\/(\d+)\/(\d+)\/([^/]+)$/
/** Marks the harness's own request to the twin (a multipart callback handed on as JSON). */
const FORWARDED = 'x-e2e-harness-forwarded'

/** An Ed25519 key pair for deliverOverHttp: the bot's DISCORD_PUBLIC_KEY is httpKey.publicHex. */
export const httpKey = (() => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519')
  const publicHex = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('hex')
  return { publicKey, privateKey, publicHex }
})()

/**
 * Start a twin on 127.0.0.1 with one guild holding a text channel, the bot and one member user,
 * plus a DM channel between that user and the bot.
 * @param {object} [opts]
 * @param {string} [opts.token] bot token the twin accepts on Identify (and the harness on REST);
 *   default: a token shaped like Discord's for the bot's id (see botToken)
 * @param {boolean} [opts.restAuth] answer 401 to REST requests without `Authorization: Bot <token>`,
 *   as Discord does (default true; interaction callbacks and webhooks need no token)
 * @param {string} [opts.guildName]
 * @param {string} [opts.channelName]
 * @param {string} [opts.username] the member user's name
 * @param {string} [opts.botName]
 * @param {number} [opts.shards] route gateway events by shard as Discord does, with one guild per
 *   shard (ids.guilds[k] on shard k)
 */
export async function startTwin(opts = {}) {
  const ids = {
    botId: generateSnowflake(),
    guildId: generateSnowflake(),
    channelId: generateSnowflake(),
    userId: generateSnowflake(),
    dmChannelId: generateSnowflake(),
  }
  const shards = opts.shards ?? null
  if (shards) {
    ids.guilds = Array.from({ length: shards }, (_, k) => ({ guildId: snowflakeOnShard(k, shards), channelId: generateSnowflake(), shard: k }))
    ids.guildId = ids.guilds[0].guildId
    ids.channelId = ids.guilds[0].channelId
  }
  const token = opts.token ?? botToken(ids.botId)
  const restAuth = opts.restAuth ?? true
  ids.applicationId = ids.botId
  ids.everyoneRoleId = ids.guildId

  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-twin-'))
  const twin = new DigitalDiscord({
    botToken: token,
    botUser: { id: ids.botId, username: opts.botName ?? 'karabakh-reactions' },
    users: [{ id: ids.userId, username: opts.username ?? 'alice' }],
    guild: {
      id: ids.guildId,
      name: opts.guildName ?? 'E2E Server',
      ownerId: ids.userId,
      channels: [{ id: ids.channelId, name: opts.channelName ?? 'general', type: 0 }],
    },
    ...(shards ? {
      guilds: ids.guilds.map((g) => ({
        id: g.guildId,
        name: `E2E Server on shard ${g.shard}`,
        ownerId: ids.userId,
        channels: [{ id: g.channelId, name: opts.channelName ?? 'general', type: 0 }],
      })),
    } : {}),
    dbUrl: `file:${path.join(tmpDir, 'twin.db')}`,
  })

  /** Every REST request the twin served: {at, method, path, query, status, body}. */
  const requests = []
  /** Every gateway dispatch sent: {at, t, s, d}. */
  const dispatches = []
  /** Every gateway payload received from clients: {at, op, d} (Identify's token redacted). */
  const gatewayReceived = []
  /** Every websocket upgrade request: {at, url} (serenity 0.12.5 asks `/gateway?v=10`). */
  const gatewayConnections = []
  const bots = []
  /** Files of stored attachments, by attachment id: {filename, contentType, bytes}. */
  const attachmentFiles = new Map()
  let server = null

  // Loopback only, plus the request log and GET /gateway: hook the one listen() call of twin.start().
  const origListen = http.Server.prototype.listen
  http.Server.prototype.listen = function listenOnLoopback(...args) {
    http.Server.prototype.listen = origListen
    wrapRequestListener(this)
    const cb = args.find((a) => typeof a === 'function')
    return origListen.call(this, 0, '127.0.0.1', cb)
  }
  try {
    await twin.start()
  } catch (error) {
    await twin.stop().catch(() => {})
    await twin.prisma.$disconnect().catch(() => {})
    fs.rmSync(tmpDir, { recursive: true, force: true })
    throw error
  } finally {
    http.Server.prototype.listen = origListen
  }
  server = twin.server // private in the TypeScript types, reachable in JS
  const address = server.httpServer.address()
  if (!address || address.address !== '127.0.0.1') {
    await twin.stop()
    await twin.prisma.$disconnect()
    fs.rmSync(tmpDir, { recursive: true, force: true })
    throw new Error(`twin bound ${JSON.stringify(address)}, not 127.0.0.1`)
  }
  const port = address.port
  const apiBase = `http://127.0.0.1:${port}`
  const gatewayUrl = `ws://127.0.0.1:${port}/gateway`

  // Adjustment 3 (role colors), empty guild_id, intents; log dispatches and what clients send.
  const gateway = server.gateway
  const origSendDispatch = gateway.sendDispatch.bind(gateway)
  gateway.sendDispatch = (client, event, data) => {
    let d = fixDispatch(data)
    if (shards) {
      const [shard, of] = client.shard ?? [0, 1]
      if (event === 'READY') {
        d = { ...d, guilds: d.guilds.filter((g) => shardOf(g.id, of) === shard) }
      } else {
        const guild = event === 'GUILD_CREATE' ? d.id : d.guild_id
        const owner = guild ? shardOf(guild, of) : 0
        if (owner !== shard) {
          dispatches.push({ at: Date.now(), t: event, s: null, d, dropped: `for shard ${owner}, not ${shard}` })
          return
        }
      }
    }
    const intent = requiredIntent(event, d)
    if (intent && (client.intents & intent) === 0) {
      dispatches.push({ at: Date.now(), t: event, s: null, d, dropped: `intent ${intent} not requested` })
      return
    }
    dispatches.push({ at: Date.now(), t: event, s: client.sequence + 1, d })
    return origSendDispatch(client, event, d)
  }
  const origHandleMessage = gateway.handleMessage.bind(gateway)
  gateway.handleMessage = (client, raw) => {
    try {
      const p = JSON.parse(raw)
      if (p.op === 2 && p.d) {
        if (Array.isArray(p.d.shard)) client.shard = p.d.shard
        p.d = { ...p.d, token: '<redacted>' }
      }
      gatewayReceived.push({ at: Date.now(), op: p.op, d: p.d })
    } catch {
      gatewayReceived.push({ at: Date.now(), op: null, d: raw })
    }
    return origHandleMessage(client, raw)
  }

  // The DM channel between the member user and the bot (the twin has no DM channels).
  await twin.prisma.channel.create({ data: { id: ids.dmChannelId, guildId: null, type: 1 } })

  function wrapRequestListener(httpServer) {
    httpServer.prependListener('upgrade', (req) => gatewayConnections.push({ at: Date.now(), url: req.url }))
    const original = httpServer.listeners('request')
    httpServer.removeAllListeners('request')
    httpServer.on('request', (req, res) => {
      // The harness's own hand-over of a multipart callback: straight to the twin, unlogged.
      if (req.headers[FORWARDED]) {
        for (const listener of original) listener.call(httpServer, req, res)
        return
      }
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const entry = { at: Date.now(), method: req.method, path: url.pathname, query: url.search, status: null, body: undefined }
      requests.push(entry)
      // Files the harness stored for messages' attachments (Discord's CDN, here).
      const file = req.method === 'GET' && url.pathname.match(ATTACHMENT_PATH)
      if (file) {
        const stored = attachmentFiles.get(file[2])
        entry.status = stored ? 200 : 404
        res.writeHead(entry.status, { 'Content-Type': stored?.contentType ?? 'text/plain' })
        res.end(stored ? stored.bytes : 'no such attachment')
        return
      }
      const callback = req.method === 'POST' && url.pathname.match(CALLBACK_PATH)
      if (callback && /^multipart\/form-data/i.test(req.headers['content-type'] ?? '')) {
        multipartCallback(req, res, entry, callback[1]).catch((error) => {
          entry.status = 500
          entry.error = String(error?.stack ?? error)
          if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' })
          res.end(JSON.stringify({ message: 'harness error', code: 0 }))
        })
        return
      }
      // Discord answers 401 to a request without the bot's token; the twin checks none.
      if (restAuth && url.pathname.startsWith(`${API_PREFIX}/`) && !NO_AUTH_PATH.test(url.pathname)
        && req.headers.authorization !== `Bot ${token}`) {
        entry.status = 401
        res.writeHead(401, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ message: '401: Unauthorized', code: 0 }))
        return
      }
      // serenity asks GET /oauth2/applications/@me for the application; the twin has /applications/@me.
      if (req.method === 'GET' && url.pathname === `${API_PREFIX}/oauth2/applications/@me`) {
        req.url = `${API_PREFIX}/applications/@me${url.search}`
      }
      // Adjustment 2: serenity's Client asks GET /gateway for the websocket URL.
      if (req.method === 'GET' && (url.pathname === `${API_PREFIX}/gateway` || url.pathname === `${API_PREFIX}/gateway/`)) {
        entry.status = 200
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ url: gatewayUrl }))
        return
      }
      // Tee the body: both listeners are attached in this tick, so both see every chunk.
      const chunks = []
      req.on('data', (c) => chunks.push(c))
      req.on('end', () => {
        if (chunks.length === 0) return
        const text = Buffer.concat(chunks).toString('utf8')
        try {
          entry.body = JSON.parse(text)
        } catch {
          entry.body = text
        }
      })
      res.on('finish', () => {
        // A callback's attachments are stored before the callback counts as answered.
        if (callback && res.statusCode < 300 && entry.body && typeof entry.body === 'object') {
          storeAttachments(callback[1], entry.body, []).catch((error) => { entry.error = String(error) })
            .finally(() => { entry.status = res.statusCode })
        } else {
          entry.status = res.statusCode
        }
      })
      for (const listener of original) listener.call(httpServer, req, res)
    })
  }

  /** 400 as Discord answers a malformed form: the callback is refused and logged as such. */
  function invalidForm(res, entry, why) {
    entry.status = 400
    entry.error = why
    res.writeHead(400, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ message: 'Invalid Form Body', code: 50035, errors: { harness: why } }))
  }

  /** An interaction callback with files: parsed, checked, logged, and handed to the twin as JSON. */
  async function multipartCallback(req, res, entry, interactionId) {
    const chunks = []
    for await (const c of req) chunks.push(c)
    const raw = Buffer.concat(chunks)
    entry.multipart = { contentType: req.headers['content-type'], bytes: raw.length }
    let form
    try {
      form = await new Response(raw, { headers: { 'content-type': req.headers['content-type'] } }).formData()
    } catch (error) {
      return invalidForm(res, entry, `not multipart/form-data: ${error}`)
    }
    const payloadText = form.get('payload_json')
    if (typeof payloadText !== 'string') return invalidForm(res, entry, 'no payload_json part')
    let payload
    try {
      payload = JSON.parse(payloadText)
    } catch {
      return invalidForm(res, entry, 'payload_json is not JSON')
    }
    const files = []
    for (const [name, value] of form.entries()) {
      if (name === 'payload_json') continue
      const m = name.match(/^files\[(\d+)\]$/)
      if (!m || typeof value === 'string') return invalidForm(res, entry, `unexpected part ${name}`)
      files.push({ field: name, index: Number(m[1]), filename: value.name, contentType: value.type, bytes: Buffer.from(await value.arrayBuffer()) })
    }
    const named = payload?.data?.attachments ?? []
    for (const f of files) {
      if (!named.some((a) => String(a.id) === String(f.index))) return invalidForm(res, entry, `${f.field} is not in data.attachments`)
    }
    entry.body = payload
    entry.files = files
    const r = await fetch(`${apiBase}${entry.path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', [FORWARDED]: '1' },
      body: payloadText,
    })
    const text = await r.text()
    if (r.ok) await storeAttachments(interactionId, payload, files)
    res.writeHead(r.status, r.headers.get('content-type') ? { 'Content-Type': r.headers.get('content-type') } : {})
    res.end(text)
    entry.status = r.status
  }

  /** Width and height from a PNG's IHDR, or nothing. */
  function pngSize(bytes) {
    const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    if (bytes.length < 24 || !bytes.subarray(0, 8).equals(signature)) return {}
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
  }

  /** After a callback that made or updated a message: its attachments as data.attachments says. */
  async function storeAttachments(interactionId, payload, files) {
    if (payload?.type !== CallbackType.ChannelMessage && payload?.type !== CallbackType.UpdateMessage) return
    const list = payload?.data?.attachments
    if (!Array.isArray(list)) return
    const row = await twin.prisma.interactionResponse.findUnique({ where: { interactionId } })
    if (!row?.messageId) return
    const stored = list.map((a) => {
      const f = files.find((file) => String(file.index) === String(a.id))
      if (!f) throw new Error(`attachment ${a.id} has no file`)
      const id = generateSnowflake()
      const filename = a.filename ?? f.filename
      attachmentFiles.set(id, { filename, contentType: f.contentType, bytes: f.bytes })
      const url = `${apiBase}/attachments/${row.channelId}/${id}/${filename}`
      return {
        id, filename, description: a.description ?? undefined, content_type: f.contentType, size: f.bytes.length,
        url, proxy_url: url, ...pngSize(f.bytes),
      }
    })
    await twin.prisma.message.update({ where: { id: row.messageId }, data: { attachments: JSON.stringify(stored) } })
  }

  // --- waiting ---

  async function waitFor(what, fn, { timeout = 10_000, interval = 25 } = {}) {
    const start = Date.now()
    for (;;) {
      const v = await fn()
      if (v) return v
      if (Date.now() - start > timeout) {
        const tail = bots.at(-1)?.tail(20)
        throw new Error(`timed out after ${timeout} ms waiting for ${what}${tail ? `\n--- bot output (tail) ---\n${tail}` : ''}`)
      }
      await sleep(interval)
    }
  }

  /** Wait until a gateway client identified and was sent READY and every GUILD_CREATE. */
  function waitForGatewayReady({ timeout = 15_000 } = {}) {
    return waitFor('gateway READY + GUILD_CREATE', () => {
      const identified = gateway.clients.some((c) => c.identified)
      const guilds = dispatches.filter((d) => d.t === 'GUILD_CREATE').length
      return identified && guilds >= 1 ? true : null
    }, { timeout })
  }

  // --- commands ---

  function commandToAPI(row) {
    return {
      id: row.id,
      application_id: row.applicationId,
      ...(row.guildId ? { guild_id: row.guildId } : {}),
      name: row.name,
      description: row.description,
      type: row.type,
      options: JSON.parse(row.options),
      default_member_permissions: row.defaultMemberPermissions,
      dm_permission: row.dmPermission,
      nsfw: row.nsfw,
      version: row.version,
    }
  }

  /** Commands the twin stored (global by default; pass guildId for a guild's). Ids are the twin's. */
  async function getCommands({ guildId = null } = {}) {
    const rows = await twin.prisma.applicationCommand.findMany({
      where: { applicationId: ids.applicationId, guildId },
      orderBy: { name: 'asc' },
    })
    return rows.map(commandToAPI)
  }

  /** Bulk-overwrite requests exactly as the bot sent them (keeps fields the twin drops, e.g. contexts). */
  function commandRegistrations() {
    return requests
      .filter((r) => r.method === 'PUT' && COMMANDS_PATH.test(r.path))
      .map((r) => {
        const [, applicationId, guildId] = r.path.match(COMMANDS_PATH)
        return { at: r.at, applicationId, guildId: guildId ?? null, status: r.status, body: r.body }
      })
  }

  /** Wait until the twin holds commands with all these names (global by default). */
  function waitForCommands({ names = [], guildId = null, timeout = 15_000 } = {}) {
    return waitFor(`commands ${names.join(', ') || '(any)'}`, async () => {
      const cmds = await getCommands({ guildId })
      if (cmds.length === 0) return null
      return names.every((n) => cmds.some((c) => c.name === n)) ? cmds : null
    }, { timeout })
  }

  // --- interactions ---

  function normalizeOptions(options) {
    if (!options) return []
    if (Array.isArray(options)) return options
    return Object.entries(options).map(([name, value]) => ({
      name,
      type: typeof value === 'boolean' ? OptionType.Boolean
        : typeof value === 'number' ? (Number.isInteger(value) ? OptionType.Integer : OptionType.Number)
          : OptionType.String,
      value,
    }))
  }

  async function commandIdFor(name, guildId) {
    const row = (guildId && await twin.prisma.applicationCommand.findFirst({ where: { applicationId: ids.applicationId, name, guildId } }))
      ?? await twin.prisma.applicationCommand.findFirst({ where: { applicationId: ids.applicationId, name, guildId: null } })
    return row?.id ?? generateSnowflake()
  }

  function userPayload(u) {
    return {
      id: u.id, username: u.username, discriminator: u.discriminator, avatar: u.avatar,
      bot: u.bot, system: u.system, flags: u.flags, public_flags: u.flags, global_name: u.globalName,
    }
  }

  /**
   * Low level: send INTERACTION_CREATE as `userId`. In a guild channel it goes through the twin's
   * simulateInteraction (member with `permissions`); with `dm: true` the harness builds it.
   * Returns {id, token, channelId}.
   */
  async function dispatchInteraction({ type, data, dm = false, channelId, guildId = ids.guildId, userId = ids.userId, messageId, permissions }) {
    const channel = channelId ?? (dm ? ids.dmChannelId : ids.guilds?.find((g) => g.guildId === guildId)?.channelId ?? ids.channelId)
    if (!dm) {
      // The twin sends member.permissions from the member row (ALL_PERMISSIONS when unset):
      // set it for this one dispatch and put it back.
      const where = { guildId_userId: { guildId, userId } }
      const previous = permissions === undefined ? undefined : (await twin.prisma.guildMember.findUniqueOrThrow({ where })).permissions
      if (permissions !== undefined) await twin.prisma.guildMember.update({ where, data: { permissions: String(permissions) } })
      try {
        const r = await twin.simulateInteraction({ type, channelId: channel, userId, data, guildId, messageId })
        return { ...r, channelId: channel }
      } finally {
        if (permissions !== undefined) await twin.prisma.guildMember.update({ where, data: { permissions: previous } })
      }
    }
    const id = generateSnowflake()
    const interactionToken = `e2e-interaction-token-${id}`
    await twin.prisma.interactionResponse.create({
      data: { interactionId: id, interactionToken, applicationId: ids.applicationId, channelId: channel, type: 0, messageId: messageId ?? null, acknowledged: false },
    })
    const user = await twin.prisma.user.findUniqueOrThrow({ where: { id: userId } })
    let message
    if (messageId) {
      message = (await twin.channel(channel).getMessages()).find((m) => m.id === messageId)
      if (!message) throw new Error(`message ${messageId} not in channel ${channel}`)
    }
    const payload = {
      id,
      application_id: ids.applicationId,
      type,
      data: data ?? {},
      channel_id: channel,
      channel: { id: channel, type: 1, flags: 0 },
      user: userPayload(user),
      ...(message ? { message } : {}),
      token: interactionToken,
      version: 1,
      app_permissions: ALL_PERMISSIONS,
      locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { 1: userId },
      context: 1,
      attachment_size_limit: 26214400,
    }
    gateway.broadcast('INTERACTION_CREATE', payload)
    return { id, token: interactionToken, channelId: channel }
  }

  /**
   * The interaction callback the bot POSTed, as sent: {status, type, data, body, files, multipart},
   * or null. For a multipart callback, body is its payload_json and files its files
   * ([{field, index, filename, contentType, bytes}]); otherwise files is [] and multipart null.
   */
  function getCallback(interactionId) {
    const r = requests.find((e) => e.method === 'POST' && e.status !== null && e.path.match(CALLBACK_PATH)?.[1] === interactionId)
    if (!r) return null
    return { status: r.status, type: r.body?.type, data: r.body?.data, body: r.body, files: r.files ?? [], multipart: r.multipart ?? null, error: r.error }
  }

  /** All interaction callbacks the bot sent: [{interactionId, status, type, data, body, files, multipart}]. */
  function callbacks() {
    return requests
      .filter((e) => e.method === 'POST' && CALLBACK_PATH.test(e.path) && e.status !== null)
      .map((e) => ({ interactionId: e.path.match(CALLBACK_PATH)[1], status: e.status, type: e.body?.type, data: e.body?.data, body: e.body, files: e.files ?? [], multipart: e.multipart ?? null }))
  }

  /**
   * Deliver an interaction to a bot's HTTP interactions endpoint (`url`, e.g.
   * http://127.0.0.1:PORT/interactions) as Discord does: recorded in the twin, POSTed signed with
   * httpKey, and the bot's response (JSON or multipart, as it came) handed to the twin's callback
   * route as the interaction's answer. In the guild channel by default (member with
   * `permissions`), or the DM with dm: true; messageId for a component on that message.
   * Returns {id, token, channelId, response: {status, contentType, raw}, callback, message}.
   */
  async function deliverOverHttp({ url, type, data, dm = false, messageId, permissions = ALL_PERMISSIONS, timeout } = {}) {
    const channel = dm ? ids.dmChannelId : ids.channelId
    const id = generateSnowflake()
    const interactionToken = `e2e-http-token-${id}`
    await twin.prisma.interactionResponse.create({
      data: { interactionId: id, interactionToken, applicationId: ids.applicationId, channelId: channel, type: 0, messageId: messageId ?? null, acknowledged: false },
    })
    const user = userPayload(await twin.prisma.user.findUniqueOrThrow({ where: { id: ids.userId } }))
    const message = messageId ? await messageById(channel, messageId) : null
    if (messageId && !message) throw new Error(`message ${messageId} not in channel ${channel}`)
    const where = dm
      ? { user, channel: { id: channel, type: 1, flags: 0 }, context: 1, authorizing_integration_owners: { 1: ids.userId } }
      : {
          guild_id: ids.guildId,
          guild_locale: 'en-US',
          member: { user, roles: [], joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0, pending: false, permissions: String(permissions) },
          channel: { id: channel, type: 0, flags: 0, guild_id: ids.guildId },
          context: 0,
          authorizing_integration_owners: { 0: ids.guildId },
        }
    const payload = {
      id, application_id: ids.applicationId, type, data: data ?? {}, channel_id: channel, ...where,
      ...(message ? { message } : {}),
      token: interactionToken, version: 1, app_permissions: ALL_PERMISSIONS, locale: 'en-US', entitlements: [],
      attachment_size_limit: 26214400,
    }
    const body = JSON.stringify(payload)
    const ts = String(Math.floor(Date.now() / 1000))
    const signature = crypto.sign(null, Buffer.from(ts + body), httpKey.privateKey).toString('hex')
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Signature-Ed25519': signature, 'X-Signature-Timestamp': ts },
      body,
    })
    const response = { status: r.status, contentType: r.headers.get('content-type'), raw: Buffer.from(await r.arrayBuffer()) }
    if (r.status !== 200 || type === InteractionType.Ping) return { id, token: interactionToken, channelId: channel, response }
    await fetch(`${apiBase}${API_PREFIX}/interactions/${id}/${interactionToken}/callback`, {
      method: 'POST',
      headers: { 'Content-Type': response.contentType },
      body: response.raw,
    })
    const callback = await waitForCallback(id, { timeout })
    const row = await twin.prisma.interactionResponse.findUnique({ where: { interactionId: id } })
    return { id, token: interactionToken, channelId: channel, response, callback, message: await messageById(channel, row?.messageId) }
  }

  /** A stored attachment's file, fetched from its url as a client would: {status, contentType, bytes}. */
  async function fetchAttachment(attachment) {
    const r = await fetch(attachment.url)
    return { status: r.status, contentType: r.headers.get('content-type'), bytes: Buffer.from(await r.arrayBuffer()) }
  }

  function waitForCallback(interactionId, { timeout = 10_000 } = {}) {
    return waitFor(`the callback for interaction ${interactionId}`, () => getCallback(interactionId), { timeout })
  }

  async function messageById(channelId, messageId) {
    if (!messageId) return null
    return (await twin.channel(channelId).getMessages()).find((m) => m.id === messageId) ?? null
  }

  /**
   * Run slash command `name` as the member user, in the guild channel or (dm: true) the DM, and
   * wait for the bot's callback. options: [{name, type, value}] or {name: value}.
   * Returns {id, token, channelId, callback, message} (message: what the channel now shows, if any).
   */
  async function runCommand({ name, options, dm = false, guildId = ids.guildId, userId, channelId, permissions, timeout } = {}) {
    const data = { id: await commandIdFor(name, dm ? null : guildId), name, type: 1 }
    const opts = normalizeOptions(options)
    if (opts.length) data.options = opts
    const it = await dispatchInteraction({ type: InteractionType.ApplicationCommand, data, dm, guildId, userId, channelId, permissions })
    const callback = await waitForCallback(it.id, { timeout })
    const row = await twin.prisma.interactionResponse.findUnique({ where: { interactionId: it.id } })
    return { ...it, callback, message: await messageById(it.channelId, row?.messageId) }
  }

  /**
   * Send an autocomplete interaction (type 4) for `name` with `focused` being typed as `value`,
   * other options as given. Returns {id, token, callback, choices} (choices from the type-8 answer).
   */
  async function autocomplete({ name, focused, value, options, dm = false, userId, channelId, permissions, timeout } = {}) {
    const others = normalizeOptions(options).filter((o) => o.name !== focused)
    const data = {
      id: await commandIdFor(name, dm ? null : ids.guildId),
      name,
      type: 1,
      options: [...others, { name: focused, type: OptionType.String, value: value ?? '', focused: true }],
    }
    const it = await dispatchInteraction({ type: InteractionType.Autocomplete, data, dm, userId, channelId, permissions })
    const callback = await waitForCallback(it.id, { timeout })
    return { ...it, callback, choices: callback.data?.choices }
  }

  /**
   * Click button `customId` on message `messageId` (type 3, component_type 2) and wait for the
   * callback. Returns {id, token, callback, message} (message as stored after the bot answered).
   */
  async function clickButton({ messageId, customId, dm = false, userId, channelId, permissions, timeout } = {}) {
    const data = { custom_id: customId, component_type: 2 }
    const it = await dispatchInteraction({ type: InteractionType.MessageComponent, data, dm, userId, channelId, messageId, permissions })
    const callback = await waitForCallback(it.id, { timeout })
    return { ...it, callback, message: await messageById(it.channelId, messageId) }
  }

  /** Messages in a channel (the guild text channel by default), oldest first, as the twin serves them. */
  function getMessages({ channelId = ids.channelId, dm = false } = {}) {
    return twin.channel(dm ? ids.dmChannelId : channelId).getMessages()
  }

  /** Wait for the newest message matching `predicate` (e.g. after a deferred reply or a follow-up). */
  function waitForMessage({ channelId = ids.channelId, dm = false, predicate = () => true, timeout = 10_000 } = {}) {
    return waitFor('a matching message', async () => {
      const messages = await getMessages({ channelId, dm })
      return [...messages].reverse().find(predicate) ?? null
    }, { timeout })
  }

  // --- the bot process ---

  /** Env for the bot: DISCORD_TOKEN, DISCORD_API_BASE, plus `extra`. */
  function env(extra = {}) {
    return { DISCORD_TOKEN: token, DISCORD_API_BASE: apiBase, ...extra }
  }

  /**
   * Spawn the bot binary with the harness env (inherited env minus DISCORD_*, then env(), then
   * `opts.env`), capturing stdout and stderr.
   */
  function spawnBot(bin, { args = [], env: extra = {}, cwd } = {}) {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DISCORD_')))
    const child = spawn(bin, args, { cwd, env: { ...base, ...env(extra) }, stdio: ['ignore', 'pipe', 'pipe'] })
    const out = { stdout: '', stderr: '', all: '' }
    child.stdout.setEncoding('utf8').on('data', (s) => { out.stdout += s; out.all += s })
    child.stderr.setEncoding('utf8').on('data', (s) => { out.stderr += s; out.all += s })
    const exited = new Promise((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }))
      child.once('exit', (code, signal) => resolve({ code, signal }))
    })
    let exitInfo = null
    // Never leave a bot behind, even when the test process dies early.
    const killOnExit = () => { if (!exitInfo) child.kill('SIGKILL') }
    process.once('exit', killOnExit)
    exited.then((e) => {
      exitInfo = e
      process.removeListener('exit', killOnExit)
    })
    const bot = {
      process: child,
      pid: child.pid,
      exited,
      get exitInfo() { return exitInfo },
      stdout: () => out.stdout,
      stderr: () => out.stderr,
      output: () => out.all,
      tail: (n = 20) => out.all.split('\n').slice(-n).join('\n'),
      /** Wait until stdout+stderr matches `pattern` (RegExp or string); returns the match. */
      waitForOutput(pattern, { timeout = 15_000 } = {}) {
        const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern
        return waitFor(`bot output ${re}`, () => {
          const m = out.all.match(re)
          if (m) return m
          if (exitInfo) throw new Error(`bot exited (${JSON.stringify(exitInfo)}) before printing ${re}\n${bot.tail(40)}`)
          return null
        }, { timeout })
      },
      /** SIGTERM, then SIGKILL after `graceMs`; resolves with {code, signal}. */
      async kill({ graceMs = 3000 } = {}) {
        if (exitInfo) return exitInfo
        child.kill('SIGTERM')
        const timer = setTimeout(() => { if (!exitInfo) child.kill('SIGKILL') }, graceMs)
        const e = await exited
        clearTimeout(timer)
        return e
      },
    }
    bots.push(bot)
    return bot
  }

  let closed = false
  /** Kill every bot spawned here, close the twin and its sockets, delete its database. */
  async function close() {
    if (closed) return
    closed = true
    await Promise.all(bots.map((b) => b.kill()))
    const stopping = twin.stop()
    server.httpServer.closeAllConnections?.()
    await stopping
    await twin.prisma.$disconnect()
    fs.rmSync(tmpDir, { recursive: true, force: true })
  }

  return {
    twin,
    token,
    ids,
    port,
    /** Give this to the bot as its REST base (serenity: HttpBuilder::proxy); it adds /api/v10. */
    apiBase,
    restUrl: `${apiBase}${API_PREFIX}`,
    gatewayUrl,
    requests,
    dispatches,
    gatewayReceived,
    gatewayConnections,
    env,
    spawnBot,
    waitFor,
    waitForGatewayReady,
    getCommands,
    commandRegistrations,
    waitForCommands,
    dispatchInteraction,
    runCommand,
    autocomplete,
    clickButton,
    getCallback,
    callbacks,
    deliverOverHttp,
    fetchAttachment,
    waitForCallback,
    getMessages,
    waitForMessage,
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** The shard Discord sends a guild's events to: (guild_id >> 22) % numShards. */
export function shardOf(guildId, numShards) {
  return Number((BigInt(guildId) >> 22n) % BigInt(numShards))
}

/** A fresh snowflake (a guild id) whose guild belongs to `shard` of `numShards`. */
export function snowflakeOnShard(shard, numShards) {
  const id = BigInt(generateSnowflake())
  const n = BigInt(numShards)
  const ms = id >> 22n
  return String(((ms - (ms % n) + BigInt(shard)) << 22n) | (id & ((1n << 22n) - 1n)))
}

/**
 * A token shaped like a Discord bot token for `botId` (not a real one): the id in base64, a
 * timestamp part and an HMAC part, separated by dots. Random, so each twin's differs.
 */
export function botToken(botId) {
  const part = (n) => crypto.randomBytes(n).toString('base64url')
  return `${Buffer.from(String(botId)).toString('base64url')}.${part(5).slice(0, 6)}.${part(29).slice(0, 38)}`
}

/**
 * Make a twin dispatch payload parse in serenity 0.12.5: give every role in `d.roles` / `d.role`
 * `colors`, and drop `guild_id: ""` (the twin's MESSAGE_CREATE for a DM; serenity rejects an empty
 * snowflake and turns the event into an UnknownEvent). Returns a copy when anything changed.
 */
export function fixDispatch(data) {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data
  const fix = (role) => (role && typeof role === 'object' && role.colors == null
    ? { ...role, colors: { primary_color: role.color ?? 0, secondary_color: null, tertiary_color: null } }
    : role)
  let out = data
  if (Array.isArray(data.roles)) out = { ...out, roles: data.roles.map(fix) }
  if (data.role && typeof data.role === 'object') out = { ...out, role: fix(data.role) }
  if ('guild_id' in data && !data.guild_id) {
    out = { ...out }
    delete out.guild_id
  }
  return out
}

// Gateway intents (bits) that gate message-like events; the twin sends everything to everyone.
const GUILD_MESSAGES = 1 << 9
const GUILD_MESSAGE_REACTIONS = 1 << 10
const GUILD_MESSAGE_TYPING = 1 << 11
const DIRECT_MESSAGES = 1 << 12
const DIRECT_MESSAGE_REACTIONS = 1 << 13
const DIRECT_MESSAGE_TYPING = 1 << 14

/** The intent Discord requires before it sends `event` (0: none the harness enforces). */
export function requiredIntent(event, d) {
  const dm = !d?.guild_id
  switch (event) {
    case 'MESSAGE_CREATE':
    case 'MESSAGE_UPDATE':
    case 'MESSAGE_DELETE':
    case 'MESSAGE_DELETE_BULK':
      return dm ? DIRECT_MESSAGES : GUILD_MESSAGES
    case 'MESSAGE_REACTION_ADD':
    case 'MESSAGE_REACTION_REMOVE':
    case 'MESSAGE_REACTION_REMOVE_ALL':
    case 'MESSAGE_REACTION_REMOVE_EMOJI':
      return dm ? DIRECT_MESSAGE_REACTIONS : GUILD_MESSAGE_REACTIONS
    case 'TYPING_START':
      return dm ? DIRECT_MESSAGE_TYPING : GUILD_MESSAGE_TYPING
    default:
      return 0
  }
}
