import type { ClientBase } from 'pg'
import { UsageError } from '../errors'

/**
 * Replica lag, measured from the primary, for `--max-replica-lag`. pg_stat_replication's replay_lag cannot be trusted
 * alone: it is only updated when the replica reports progress, so a replica whose replay is stuck (paused, a long
 * query on it in conflict, a slow disk) keeps showing the last small value for as long as it is stuck (measured: 18 ms
 * shown while replay had been paused for 5 s). So the runner remembers where the primary's WAL was at each moment it
 * looked (pg_current_wal_lsn) and reads each replica's replay position: a replica is as far behind as the time since
 * the WAL first went past the position it has replayed. Within one look (≈ 250 ms) of the truth, never stale.
 */

/** A log sequence number as a number: `16/B374D848` → 0x16B374D848. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/')
  if (high === undefined || low === undefined || !/^[0-9A-F]+$/i.test(high) || !/^[0-9A-F]+$/i.test(low)) {
    throw new Error(`not a log sequence number: ${text}`)
  }
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`)
}

interface WalSample {
  at: number
  lsn: bigint
}

/** How long the history of WAL positions is kept: a replica further behind is reported as at least this far. */
const KEEP_MS = 15 * 60_000

export class ReplicaLagMeter {
  private readonly samples: WalSample[] = []

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Where the primary's WAL is now. */
  record(lsn: bigint): void {
    const at = this.now()
    const last = this.samples.at(-1)
    if (!last || lsn > last.lsn) this.samples.push({ at, lsn })
    while (this.samples.length > 2 && at - this.samples[1].at > KEEP_MS) this.samples.shift()
  }

  /**
   * How far behind (ms) a replica that has replayed up to `replayed` is: 0 when it has everything recorded; else the
   * time since the WAL first went past it (at least: it may have gone past a moment before that look).
   */
  lagMs(replayed: bigint): number {
    const firstAhead = this.samples.find((sample) => sample.lsn > replayed)
    return firstAhead === undefined ? 0 : Math.max(0, this.now() - firstAhead.at)
  }
}

export interface ReplicaPosition {
  /** application_name of its WAL receiver (the replica's cluster_name or "walreceiver"), and where it connects from. */
  name: string
  client: string | null
  /** Null when this user may not see it (needs pg_monitor or pg_read_all_stats). */
  replayed: bigint | null
}

/** The primary's WAL position and each connected replica's replay position. */
export async function readReplication(client: ClientBase): Promise<{ current: bigint; replicas: ReplicaPosition[] }> {
  const { rows } = await client.query<{ current: string; name: string | null; client: string | null; replayed: string | null }>(
    `SELECT pg_current_wal_lsn()::text AS current, r.application_name AS name, host(r.client_addr) AS client,
            r.replay_lsn::text AS replayed
       FROM (SELECT 1) AS one LEFT JOIN pg_stat_replication r ON r.state = 'streaming'`,
  )
  const current = parseLsn(rows[0].current)
  const replicas = rows
    .filter((row) => row.name !== null)
    .map((row) => ({ name: row.name!, client: row.client, replayed: row.replayed === null ? null : parseLsn(row.replayed) }))
  return { current, replicas }
}

/** Refuses `--max-replica-lag` where it cannot work: no replica streaming, or one this user may not see. */
export function assertReplicasVisible(replicas: ReplicaPosition[]): void {
  if (replicas.length === 0) {
    throw new UsageError('--max-replica-lag: no replica is streaming from this database (pg_stat_replication has none)', {
      hint: 'Run it against the primary your replicas stream from, or leave --max-replica-lag out.',
    })
  }
  if (replicas.some((replica) => replica.replayed === null)) {
    throw new UsageError("--max-replica-lag: this database user may not read the replicas' positions in pg_stat_replication", {
      hint: 'GRANT pg_monitor TO <the user of DATABASE_URL>, or run as a user that has it.',
    })
  }
}

/** `replica walreceiver (10.0.0.7)`. */
export function describeReplica(replica: ReplicaPosition): string {
  return `replica ${replica.name}${replica.client ? ` (${replica.client})` : ''}`
}
