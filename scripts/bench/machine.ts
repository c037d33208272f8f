import os from 'node:os'
import type { ClientBase } from 'pg'

export interface Machine {
  cpu: string
  cores: number
  ramGiB: number
  os: string
  node: string
  postgres: string
  /** The 1-minute load average when the benchmark started: other work on the machine skews every figure. */
  loadAverage: number
  /** Server settings that shape the figures (the benchmark changes none of them). */
  postgresSettings: Record<string, string>
}

const SETTINGS = ['shared_buffers', 'synchronous_commit', 'max_wal_size', 'wal_buffers', 'autovacuum']

/** Where the figures were measured: they mean little without it. */
export async function describeMachine(client: ClientBase): Promise<Machine> {
  const cpus = os.cpus()
  const version = await client.query<{ version: string }>(`SELECT current_setting('server_version') AS version`)
  const settings = await client.query<{ name: string; setting: string }>(
    `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1) ORDER BY name`,
    [SETTINGS],
  )
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: version.rows[0]?.version ?? 'unknown',
    loadAverage: Math.round(os.loadavg()[0] * 100) / 100,
    postgresSettings: Object.fromEntries(settings.rows.map((row) => [row.name, row.setting])),
  }
}
