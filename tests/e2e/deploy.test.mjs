// The deployment example (deploy/run-local, README "Scaling out") on a local Discord: the
// topology of a scaled-out bot, reduced to two `serve` replicas, two gateway processes sharing
// two shards and one scheduler, all on one database. `cargo test` runs it (tests/e2e.rs).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, test } from 'node:test'
import { InteractionType, httpKey, startTwin } from './harness.mjs'

const BOT_BIN = process.env.BOT_BIN
if (!BOT_BIN && process.env.CI) {
  throw new Error('BOT_BIN is not set: under CI these tests must run, not be skipped (cargo test sets BOT_BIN)')
}
const skip = !BOT_BIN && 'BOT_BIN is not set (cargo test sets it to the binary it built)'
const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/run-local')

/** topology.tsv as rows of {name, role, pid, admin, public}. */
function readTopology(file) {
  const [header, ...rows] = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('\t'))
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])))
}

function alive(pid) {
  try {
    process.kill(Number(pid), 0)
    return true
  } catch {
    return false
  }
}

describe('deploy/run-local: the scaled-out topology', { skip, timeout: 120_000 }, () => {
  let h
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'kr-deploy-'))
  after(async () => {
    await h?.close()
    // Never leave a process behind, even when the launcher was killed.
    const file = path.join(state, 'topology.tsv')
    if (fs.existsSync(file)) for (const p of readTopology(file)) if (alive(p.pid)) process.kill(Number(p.pid), 'SIGKILL')
    fs.rmSync(state, { recursive: true, force: true })
  })

  test('serve replicas, gateway processes and a scheduler start healthy on their admin addresses, answer, and stop on SIGTERM', async () => {
    h = await startTwin({ shards: 2 })
    const run = h.spawnBot(SCRIPT, {
      args: ['--serve', '2', '--gateways', '2', '--total-shards', '2', '--schedulers', '1', '--state', state,
        '--public-port', '0', '--admin-port', '0', '--ready-timeout', '60'],
      cwd: state,
      env: { KR_BIN: BOT_BIN, DISCORD_PUBLIC_KEY: httpKey.publicHex, KR_LOG: 'info', KR_DEV_GUILD: h.ids.guildId },
    })
    await run.waitForOutput(/all 5 processes healthy/, { timeout: 60_000 })

    const topology = readTopology(path.join(state, 'topology.tsv'))
    assert.deepEqual(topology.map((p) => [p.name, p.role]), [
      ['serve-0', 'serve'], ['serve-1', 'serve'], ['gateway-0-0', 'gateway'], ['gateway-1-1', 'gateway'], ['schedule-0', 'schedule'],
    ])
    assert.equal(new Set(topology.map((p) => p.admin)).size, 5, 'an admin address each')
    for (const p of topology) {
      const r = await fetch(`http://${p.admin}/healthz`)
      const body = await r.json()
      assert.equal(r.status, 200, `${p.name}: ${JSON.stringify(body)}`)
      assert.equal(body.role, p.role)
      assert.equal(body.checks.store.ok, true, p.name)
      if (p.role === 'gateway') assert.equal(body.checks.shards.ok, true, p.name)
      const metrics = await (await fetch(`http://${p.admin}/metrics`)).text()
      assert.match(metrics, p.role === 'schedule' ? /^kr_schedule_ticks_total \d+$/m : /^# TYPE kr_interactions_total counter$/m, p.name)
    }

    // Each replica answers Discord's HTTP interactions (any load balancer may send to either).
    for (const p of topology.filter((p) => p.role === 'serve')) {
      const r = await h.deliverOverHttp({ url: `http://${p.public}/interactions`, type: InteractionType.ApplicationCommand, data: { name: 'about', type: 1, id: '1' } })
      assert.equal(r.response.status, 200, p.name)
      assert.equal(r.callback.type, 4, p.name)
    }
    // The gateway processes answer the servers of their shards; the commands were registered once.
    for (const g of h.ids.guilds) {
      const r = await h.runCommand({ name: 'about', guildId: g.guildId })
      assert.equal(r.callback.status, 204, `server on shard ${g.shard}`)
    }
    assert.equal(h.commandRegistrations().length, 1)

    const exit = await run.kill({ graceMs: 20_000 })
    assert.deepEqual(exit, { code: 0, signal: null }, run.tail(20))
    for (const p of topology) assert.ok(!alive(p.pid), `${p.name} stopped`)
    for (const p of topology) {
      const log = fs.readFileSync(path.join(state, 'logs', `${p.name}.log`), 'utf8')
      assert.doesNotMatch(log, /panicked|ERROR/, p.name)
      assert.match(log, /stopped|shutting down/, p.name)
    }
  })
})
