import type { Command } from 'commander'
import { ExitCode, MigrateKitError, UsageError, errorMessage, signalExitCode } from '../../errors'
import { listMigrations, findMigration } from '../../prisma/migrations'
import type { DataLossWarning } from '../../rollback/data-loss'
import { hasRollback, relativePath } from '../../rollback/files'
import { assertWritable, generateRollback, generateRollbacks } from '../../rollback/generate'
import type { ReviewNote } from '../../rollback/header'
import type { ScriptRepair } from '../../rollback/repair'
import { RollbackTrial } from '../../rollback/trial'
import { action, examples, type CommandHost } from '../command'
import { stopAfterStep } from '../graceful-stop'
import { historyProgress } from '../history-progress'
import { printJson, type CliIO } from '../io'

/** What a generated rollback's header says, one line each: what was mended, what destroys data, what to add by hand. */
/** What follows "Wrote <file>": nothing for a complete rollback. */
export function writtenNote(rollback: { empty: boolean; unrestored: number }): string {
  if (rollback.unrestored > 0) {
    return ` (INCOMPLETE: it leaves ${rollback.unrestored} schema object${rollback.unrestored === 1 ? '' : 's'} of the migration in place; see the REVIEW lines in its header)`
  }
  return rollback.empty ? ' (Prisma found nothing to revert: see its header)' : ''
}

export function printWarnings(
  io: CliIO,
  file: string,
  rollback: { warnings: DataLossWarning[]; review: ReviewNote[]; repairs: ScriptRepair[] },
): void {
  const { warnings, review, repairs } = rollback
  for (const repair of repairs) io.out(`  repaired: ${repair.description}`)
  for (const warning of warnings) io.out(`  warning: ${file}:${warning.line} ${warning.message}`)
  for (const note of review) io.out(`  review: ${note.line === undefined ? '' : `migration.sql line ${note.line} `}${note.description}`)
}

/** Why a migration's rollback was not written (stderr): the error, then what to do about it. */
export function printGenerationError(io: CliIO, migration: string, error: unknown): void {
  io.err(`error: ${migration}: ${errorMessage(error)}`)
  if (error instanceof MigrateKitError && error.hint) io.err(error.hint)
}

interface GenerateCliOptions {
  force?: boolean
  json?: boolean
  print?: boolean
}

export function registerRollbacks(program: Command, host: CommandHost): void {
  const rollbacks = program.command('rollbacks').description('Manage the rollbacks/<migration>/rollback.sql files.')
  rollbacks
    .command('generate')
    .description(
      "Write rollback.sql for migrations that have none (a project adopting migrate-kit late), from Prisma's diff of " +
        'the migration history itself. Never overwrites an existing file without --force.',
    )
    .argument('[migration]', 'one migration (folder name, or the part after the timestamp); default: every one without a rollback')
    .option('--force', 'overwrite an existing rollback.sql (with no migration named: every one)')
    .option('--json', 'print one JSON document on stdout')
    .option('--print', 'write nothing: print the rollback.sql of the migration named (also one that does not run, with why)')
    .addHelpText(
      'after',
      examples([
        'migrate-kit rollbacks generate',
        'migrate-kit rollbacks generate add_display_name --print',
        'migrate-kit rollbacks generate 20260301120000_add_display_name',
        'migrate-kit rollbacks generate add_display_name --force',
      ]) +
        '\nEach rollback is tried before it is written: on a scratch database (migrate_kit_trial_<random>, dropped at the\n' +
        "end) that the migrations build up to it, it runs in a transaction that is then rolled back. What Prisma's diff gets\n" +
        'wrong and can be mended is mended and named in the header (REPAIRED); a rollback that still does not run is not\n' +
        'written. Exit codes: 0 written (or nothing to do), 1 Prisma could not diff a migration or its rollback does not\n' +
        'run, 2 unknown migration or file exists (or --print without a migration).\n',
    )
    .action(
      action(host, async (reference: string | undefined, options: GenerateCliOptions) => {
        const { context } = host
        const { project, io } = context
        const history = listMigrations(project)
        const targets =
          reference === undefined
            ? history.filter((migration) => options.force || !hasRollback(project, migration.name))
            : [findMigration(history, reference)]
        if (options.print) {
          if (reference === undefined)
            throw new UsageError('--print needs the migration whose rollback to print', {
              hint: 'npx migrate-kit rollbacks generate <migration> --print',
            })
          const database = await context.database('read')
          const generated = await generateRollback(project, targets[0].name, { databaseUrl: database.url })
          io.out(generated.text.replace(/\n$/, ''))
          if (!generated.failure) return ExitCode.ok
          io.err(`error: this rollback does not run on the schema it is for:\n${generated.failure.text}`)
          return ExitCode.failed
        }
        // Refused before asking Prisma for anything (writeRollback would refuse too, after the work).
        if (reference !== undefined) assertWritable(project, targets[0].name, options)
        if (targets.length === 0) {
          if (options.json) printJson(io, { ok: true, migrations: [] })
          else io.out('Every migration has its rollback.sql: nothing to generate (--force regenerates them).')
          return ExitCode.ok
        }
        const database = await context.database('read')
        // One scratch database walks the history in order: each migration is applied once for all the tries.
        const trial = await RollbackTrial.open(project, database.url)
        const progress = historyProgress(io, { label: 'rollbacks generate', total: targets.length, json: options.json })
        // The files written are kept; a second Ctrl-C goes back to the CLI, whose cleanup below drops the databases too.
        const stop = stopAfterStep(context, progress.io.err, 'the rollback under way, then dropping the scratch databases')
        context.onDispose(async () => {
          stop.release()
          progress.stop()
          await trial.close()
        })
        const written = await generateRollbacks(
          project,
          targets.map((migration) => migration.name),
          {
            databaseUrl: database.url,
            trial,
            force: options.force,
            signal: stop.signal,
            onStarting: (migration) => progress.starting(migration),
            onResult: (result) => {
              progress.done()
              if (options.json) return
              if (result.status === 'written') {
                const file = relativePath(project, result.file)
                progress.io.out(`Wrote ${file}${writtenNote(result.generated)}`)
                printWarnings(progress.io, file, result.generated)
                return
              }
              printGenerationError(progress.io, result.migration, result.error)
            },
          },
        )
        progress.stop()
        const failed = written.some((result) => result.status === 'error')
        const results = written.map((result) =>
          result.status === 'written'
            ? {
                name: result.migration,
                status: result.status,
                file: relativePath(project, result.file),
                warnings: result.generated.warnings.length,
                seconds: Number(result.seconds.toFixed(3)),
              }
            : {
                name: result.migration,
                status: result.status,
                error: errorMessage(result.error),
                seconds: Number(result.seconds.toFixed(3)),
              },
        )
        if (stop.signalled) {
          if (options.json) printJson(io, { ok: false, interrupted: true, migrations: results })
          else {
            io.out(
              `Interrupted after ${written.length} of ${targets.length} migrations: the ${written.filter((result) => result.status === 'written').length} ` +
                'rollback.sql files written are kept; run npx migrate-kit rollbacks generate again for the rest.',
            )
          }
          return signalExitCode(stop.signalled)
        }
        if (options.json) printJson(io, { ok: !failed, migrations: results })
        else io.out(`Review each file before committing it; prove them all with: npx migrate-kit verify-rollbacks`)
        return failed ? ExitCode.failed : ExitCode.ok
      }),
    )
}
