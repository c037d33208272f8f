import type { ClientBase } from 'pg'

/**
 * The toolkit's own tables live in schema `migrate_kit`, never in the app's schema, so Prisma (which only looks at
 * the schema of its datasource, `public` by default) never reports them as drift.
 *
 * Each part of the toolkit owns its tables as a list of DDL steps under its own component name; a step runs once,
 * in order, recorded in migrate_kit.state_versions. Steps are append-only: never edit one that has shipped.
 */
export const STATE_SCHEMA = 'migrate_kit'

export interface StateComponent {
  /** A stable name: 'backfill', 'rollback', … */
  name: string
  /** DDL run in order; index + 1 is the component's version. Unqualified names resolve into migrate_kit. */
  steps: string[]
}

// Serialises concurrent first runs (two operators, several runner processes) on creating the same tables.
const STATE_DDL_LOCK = 0x6d6b5f73 // 'mk_s'

const ensured = new WeakMap<ClientBase, Set<string>>()

export async function ensureState(client: ClientBase, component: StateComponent): Promise<void> {
  const done = ensured.get(client) ?? new Set<string>()
  if (done.has(component.name)) return
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [STATE_DDL_LOCK])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA}`)
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.state_versions (
         component text PRIMARY KEY,
         version integer NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now()
       )`,
    )
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${STATE_SCHEMA}.state_versions WHERE component = $1`, [
      component.name,
    ])
    const current = rows[0]?.version ?? 0
    if (current < component.steps.length) {
      await client.query(`SET LOCAL search_path TO ${STATE_SCHEMA}`)
      for (const step of component.steps.slice(current)) await client.query(step)
      await client.query(
        `INSERT INTO ${STATE_SCHEMA}.state_versions (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
        [component.name, component.steps.length],
      )
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
  done.add(component.name)
  ensured.set(client, done)
}

/** Whether a component's tables exist yet (read-only commands must not create the schema just to look). */
export async function stateExists(client: ClientBase, component: string): Promise<boolean> {
  const table = await client.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [
    `${STATE_SCHEMA}.state_versions`,
  ])
  if (!table.rows[0]?.present) return false
  const { rows } = await client.query(`SELECT 1 FROM ${STATE_SCHEMA}.state_versions WHERE component = $1`, [component])
  return rows.length > 0
}
