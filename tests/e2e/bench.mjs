// Load generator: how long the bot takes to answer over the gateway, measured on a local Discord.
// For each interaction: from the moment the twin sends INTERACTION_CREATE on the websocket to the
// moment the bot's callback request reaches the twin's REST port (the bot's whole turnaround:
// websocket, parsing, the settings database, the core, rendering, the HTTP request). Not a test.
//
//   cargo build --release
//   node tests/e2e/bench.mjs target/release/karabakh-reactions [rounds=200]
//
// Interactions are sent one after another (the twin's own bookkeeping, not the bot, is what limits
// a concurrent run). Prints percentiles per kind of interaction.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startTwin } from './harness.mjs'

const given = process.argv[2] ?? process.env.BOT_BIN
const bin = given && path.resolve(given)
const rounds = Number(process.argv[3] ?? 200)
if (!bin) {
  console.error('usage: node tests/e2e/bench.mjs PATH-TO-BINARY [rounds]')
  process.exit(2)
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kr-bench-'))
const h = await startTwin()
const bot = h.spawnBot(bin, { cwd: tmp, env: { KR_DATABASE: path.join(tmp, 'bench.sqlite3'), KR_LOG: 'warn,karabakh_reactions::discord::gateway=info', KR_DEV_GUILD: h.ids.guildId } })
try {
  await bot.waitForOutput(/connected to the gateway/)

  /** Gateway send → callback arrival, in ms, for interaction `id`. */
  function turnaround(id) {
    const sent = h.dispatches.find((d) => d.t === 'INTERACTION_CREATE' && d.d.id === id)
    const answered = h.requests.find((r) => r.method === 'POST' && r.path.startsWith(`/api/v10/interactions/${id}/`))
    return answered.at - sent.at
  }

  const kinds = {
    'autocomplete /reaction actor:Tur': () => h.autocomplete({ name: 'reaction', focused: 'actor', value: 'Tur' }),
    'autocomplete /reaction actor:Stoltenbrg': () => h.autocomplete({ name: 'reaction', focused: 'actor', value: 'Stoltenbrg' }),
    '/reaction Turkey (server)': () => h.runCommand({ name: 'reaction', options: { actor: 'Turkey' } }),
    '/timeline 2020-10 (DM)': () => h.runCommand({ name: 'timeline', options: { date: '2020-10' }, dm: true }),
  }
  // Warm up: first answers pay for lazily opened connections.
  for (const run of Object.values(kinds)) await run()

  const rows = []
  for (const [kind, run] of Object.entries(kinds)) {
    const ms = []
    for (let i = 0; i < rounds; i++) ms.push(turnaround((await run()).id))
    ms.sort((a, b) => a - b)
    const pick = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]
    rows.push({ kind, n: ms.length, p50: pick(0.5), p95: pick(0.95), p99: pick(0.99), max: ms.at(-1) })
  }
  console.log(`bot: ${bin}; node ${process.version}; ${os.cpus().length} cores; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  console.log('| interaction | n | p50 ms | p95 ms | p99 ms | max ms |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const r of rows) console.log(`| ${r.kind} | ${r.n} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.max} |`)
} finally {
  await h.close()
  fs.rmSync(tmp, { recursive: true, force: true })
}
