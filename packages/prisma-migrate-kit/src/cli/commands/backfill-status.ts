import type { Command } from 'commander'
import { ExitCode } from '../../errors'
import { relativePath, type Project } from '../../project'
import { UnknownBackfillError } from '../../backfill/errors'
import { backfillKind, type Backfill, type BackfillKind } from '../../backfill/definition'
import { STALE_HEARTBEAT_MS } from '../../backfill/lock'
import { formatCount, formatDuration } from '../../backfill/progress'
import { readBackfillStatus, readBackfillStatuses, type BackfillStatus } from '../../backfill/status'
import { action, examples, type CommandHost } from '../command'
import { formatTable, printJson, type CliIO } from '../io'
import { loadForReading, withDatabase } from './backfill-common'
import { formatBytes } from '../../text'

/** A file's kind; a backfill only the database knows has none it can tell. */
const listedKind = (definition: Backfill): BackfillKind | 'unknown' => backfillKind(definition)

export function registerBackfillList(backfill: Command, host: CommandHost): void {
  backfill
    .command('list')
    .description('Every backfill file with its table, key, kind, migrations it sits between, and its status.')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', examples(['migrate-kit backfill list', 'migrate-kit backfill list --json']))
    .action(
      action(host, async (options: { json?: boolean }) => {
        const { context } = host
        const { backfills, problems } = await loadForReading(context)
        const statuses = await withDatabase(context, 'read', (client) => readBackfillStatuses(client, backfills))
        const byName = new Map(statuses.map((status) => [status.name, status]))
        const entries = backfills.map((loaded) => ({
          name: loaded.name,
          file: loaded.relativeFile,
          table: loaded.definition.table,
          key: byName.get(loaded.name)?.key ?? null,
          kind: listedKind(loaded.definition),
          after: loaded.after ?? null,
          before: loaded.before ?? null,
          status: byName.get(loaded.name)?.status ?? 'pending',
          rowsDone: byName.get(loaded.name)?.rowsDone ?? 0,
          rowsTotal: byName.get(loaded.name)?.rowsTotal ?? null,
          orphaned: false,
        }))
        // Backfills the database knows that no file defines any more: listed so they can be forgotten.
        for (const status of statuses.filter((candidate) => candidate.orphaned)) {
          entries.push({
            name: status.name,
            file: status.file ?? '',
            table: status.table ?? '',
            key: status.key,
            kind: 'unknown',
            after: null,
            before: null,
            status: status.status,
            rowsDone: status.rowsDone,
            rowsTotal: status.rowsTotal,
            orphaned: true,
          })
        }
        if (options.json) printJson(context.io, { backfills: entries, problems })
        else if (entries.length === 0 && problems === 0) {
          context.io.out(noBackfillsYet(context.project))
        } else {
          const rows = entries.map((entry) => [
            entry.name,
            entry.file,
            `${entry.table}${entry.key ? ` by ${entry.key}` : ''}`,
            entry.kind,
            entry.after ?? '',
            entry.before ?? '',
            `${entry.status} ${progress(entry)}${entry.orphaned ? ' (orphaned: file gone)' : ''}`.trim(),
          ])
          for (const line of formatTable(['backfill', 'file', 'table', 'kind', 'after', 'before', 'status'], rows)) context.io.out(line)
        }
        // A list reads: a bad file is a warning beside the others (every command that runs one refuses it, exit 2).
        return ExitCode.ok
      }),
    )
}

export function registerBackfillStatus(backfill: Command, host: CommandHost): void {
  backfill
    .command('status')
    .description('Progress of one backfill or of all, from any machine: rows, cursor, batch size, runners, last error.')
    .argument('[name]', 'one backfill; default: all')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', examples(['migrate-kit backfill status', 'migrate-kit backfill status users_display_name --json | jq .rowsDone']))
    .action(
      action(host, async (name: string | undefined, options: { json?: boolean }) => {
        const { context } = host
        const { backfills } = await loadForReading(context)
        if (name === undefined) {
          const statuses = await withDatabase(context, 'read', (client) => readBackfillStatuses(client, backfills))
          if (options.json) printJson(context.io, { backfills: statuses })
          else printStatusTable(context.io.out, statuses, context.project)
          return
        }
        const status = await withDatabase(context, 'read', (client) =>
          readBackfillStatus(
            client,
            name,
            backfills.find((loaded) => loaded.name === name),
          ),
        )
        if (!status)
          throw new UnknownBackfillError(
            name,
            backfills.map((loaded) => loaded.name),
          )
        if (options.json) printJson(context.io, status)
        else printStatus(context.io, status)
      }),
    )
}

function progress(status: { rowsDone: number; rowsTotal: number | null }): string {
  if (status.rowsTotal === null) return status.rowsDone > 0 ? `${formatCount(status.rowsDone)} rows` : ''
  const percent = status.rowsTotal > 0 ? Math.min(100, Math.floor((status.rowsDone / status.rowsTotal) * 100)) : 100
  return `${formatCount(status.rowsDone)}/${formatCount(status.rowsTotal)} rows (${percent} %)`
}

function noBackfillsYet(project: Project): string {
  return `No backfills yet: add ${relativePath(project, project.backfillsDir)}/<name>.ts exporting defineBackfill({ … }).`
}

/** The backfills part of tables: shared with `migrate-kit status`. */
export function printStatusTable(out: (line: string) => void, statuses: BackfillStatus[], project: Project): void {
  if (statuses.length === 0) {
    out(noBackfillsYet(project))
    return
  }
  const rows = statuses.map((status) => [
    status.name,
    status.status,
    progress(status),
    [
      status.interrupted ? 'interrupted: its runner stopped without saying so' : '',
      status.runners.length > 0
        ? `${status.runners.length} runner${status.runners.length === 1 ? '' : 's'}${status.staleRunners > 0 ? ` (${status.staleRunners === status.runners.length ? '' : `${status.staleRunners} `}stale)` : ''}`
        : '',
      status.throttled ? `throttled: ${status.throttled}` : '',
      status.lastError ? `last error: ${status.lastError}` : '',
      status.reset ? `reset: ${status.reset}` : '',
      status.orphaned ? `orphaned: no file defines it (migrate-kit backfill forget ${status.name})` : '',
      status.snapshotRows > 0 ? `snapshot ${formatCount(status.snapshotRows)} rows, ${formatBytes(status.snapshotBytes)}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  ])
  for (const line of formatTable(['backfill', 'status', 'progress', 'note'], rows)) out(line)
}

function printStatus(io: CliIO, status: BackfillStatus): void {
  const out = io.out
  out(`${status.name}: ${status.status}${status.interrupted ? ' (interrupted: its runner stopped without recording it)' : ''}`)
  out(`  progress    ${progress(status) || 'not started'}${status.rowsChanged > 0 ? `, ${formatCount(status.rowsChanged)} changed` : ''}`)
  if (status.table) out(`  table       ${status.table} by ${status.key}`)
  if (status.file) out(`  file        ${status.file}${status.orphaned ? ' (gone)' : ''}`)
  out(`  cursor      ${status.cursorShown ?? '(no range done yet)'}`)
  if (status.batchSize !== null) out(`  batch size  ${formatCount(status.batchSize)}`)
  for (const runner of status.runners) {
    const stale = runner.stale
      ? `: STALE, no heartbeat for ${formatDuration(runner.heartbeatAgeSeconds)} (limit ${formatDuration(STALE_HEARTBEAT_MS / 1000)})`
      : ''
    out(`  runner      ${runner.host} pid ${runner.pid} (${runner.role}) since ${runner.since.toISOString()}${stale}`)
  }
  if (status.staleRunners > 0) {
    out(
      '  stale       its session is open but it writes nothing: stalled or frozen (SIGSTOP, swapping, a connection that stopped answering, which it replaces by itself within its statement timeout + 5 s). Look at the process; killing it is safe (its batch rolls back, `run` resumes).',
    )
  }
  if (status.throttled) out(`  throttled   ${status.throttled}`)
  if (status.requested) out(`  requested   ${status.requested}`)
  if (status.startedAt) out(`  started     ${status.startedAt}`)
  if (status.finishedAt) out(`  finished    ${status.finishedAt}${status.verifiedAt ? ', verified' : ''}`)
  if (status.lastError) out(`  last error  ${status.lastError}`)
  if (status.failedKeys) out(`  failed keys ${status.failedKeys}`)
  if (status.pendingInvalidations > 0) out(`  cache       ${status.pendingInvalidations} invalidation(s) waiting for Redis`)
  if (status.snapshotRows > 0) {
    out(
      `  snapshot    ${formatCount(status.snapshotRows)} rows of old values, about ${formatBytes(status.snapshotBytes)} (restore, report; delete: migrate-kit backfill purge ${status.name})`,
    )
  }
  if (status.reset) out(`  reset       ${status.reset}: pending again, its next run starts from the first key`)
  if (status.orphaned)
    out(`  orphaned    no file in the backfills folder defines it; remove its state with: migrate-kit backfill forget ${status.name}`)
  const next: Record<BackfillStatus['status'], string | undefined> = {
    pending: `Start it with: migrate-kit backfill run ${status.name}`,
    paused: `Resume with: migrate-kit backfill ${status.runners.length > 0 ? 'resume' : 'run'} ${status.name}`,
    failed: `Fix the cause, then resume: migrate-kit backfill run ${status.name}`,
    cancelled: `Resume with: migrate-kit backfill run ${status.name}`,
    running: undefined,
    done: undefined,
  }
  const hint = next[status.status]
  if (hint) io.err(hint)
}
