import { spawnSync } from 'node:child_process'
import { appendFileSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { Client } from 'pg'
import type { TestDatabase } from './database'
import { REPO_ROOT } from './project'
import { closedPort } from './redis'

/**
 * A private primary and a real streaming replica of it (pg_basebackup -R), for tests of replica lag. The machine's
 * PostgreSQL allows no replication connections, so both are our own, with their data under .migrate-kit/; as root
 * they run as nobody (PostgreSQL refuses root). pg_wal_replay_pause() on the replica makes real lag.
 */
export interface ReplicatedServer {
  /** The primary's postgres database, as a test database (drop() does nothing: stop() removes everything). */
  primary: TestDatabase
  replicaUrl: string
  stop(): void
}

const NOBODY = 65534

function postgresBin(): string {
  const base = '/usr/lib/postgresql'
  const version = readdirSync(base).sort((a, b) => Number(b) - Number(a))[0]
  if (!version) throw new Error(`no PostgreSQL binaries under ${base}`)
  return path.join(base, version, 'bin')
}

export async function startReplicatedServer(): Promise<ReplicatedServer> {
  const bin = postgresBin()
  const asRoot = process.getuid?.() === 0
  const stateDir = path.join(REPO_ROOT, '.migrate-kit')
  mkdirSync(stateDir, { recursive: true })
  const root = mkdtempSync(path.join(stateDir, 'replica-test-'))
  if (asRoot) chownSync(root, NOBODY, NOBODY)
  const run = (command: string, args: string[]) => {
    const result = spawnSync(path.join(bin, command), args, {
      encoding: 'utf8',
      timeout: 60_000,
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    })
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.stdout || String(result.error)}`)
  }
  const [primaryPort, replicaPort] = [await closedPort(), await closedPort()]
  const primaryDir = path.join(root, 'primary')
  const replicaDir = path.join(root, 'replica')
  const started: string[] = []
  const stop = () => {
    for (const dir of started.reverse()) {
      spawnSync(path.join(bin, 'pg_ctl'), ['-D', dir, '-m', 'immediate', 'stop'], asRoot ? { uid: NOBODY, gid: NOBODY } : {})
    }
    rmSync(root, { recursive: true, force: true })
  }
  try {
    run('initdb', ['-D', primaryDir, '-U', 'postgres', '-A', 'trust'])
    appendFileSync(path.join(primaryDir, 'pg_hba.conf'), 'host replication all 127.0.0.1/32 trust\n')
    const serverOptions = (port: number) => `-p ${port} -k ${root} -c listen_addresses=127.0.0.1`
    run('pg_ctl', ['-D', primaryDir, '-o', serverOptions(primaryPort), '-l', path.join(root, 'primary.log'), '-w', 'start'])
    started.push(primaryDir)
    run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replicaDir, '-R', '-X', 'stream'])
    run('pg_ctl', ['-D', replicaDir, '-o', serverOptions(replicaPort), '-l', path.join(root, 'replica.log'), '-w', 'start'])
    started.push(replicaDir)
  } catch (error) {
    stop()
    throw error
  }
  const primaryUrl = `postgresql://postgres@127.0.0.1:${primaryPort}/postgres`
  const query = async <T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> => {
    const client = new Client({ connectionString: primaryUrl })
    await client.connect()
    try {
      return (await client.query<T>(sql, params)).rows
    } finally {
      await client.end()
    }
  }
  // Streaming before the test begins.
  for (let tries = 0; (await query(`SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'`)).length === 0; tries++) {
    if (tries > 100) {
      stop()
      throw new Error('the replica did not start streaming')
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    primary: { name: 'postgres', url: primaryUrl, query, drop: () => Promise.resolve() },
    replicaUrl: `postgresql://postgres@127.0.0.1:${replicaPort}/postgres`,
    stop,
  }
}
