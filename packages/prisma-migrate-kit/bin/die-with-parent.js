'use strict'
// Preloaded (NODE_OPTIONS --require) into the processes migrate-kit starts: the Prisma CLI and, through it, the
// schema engine. Killed with -9, migrate-kit cannot stop them itself; without this they would go on as orphans,
// applying a migration with nobody to report it. Linux gives an orphan a new parent, so a changed parent pid means
// ours is gone: remove the temporary folder we were working in (MIGRATE_KIT_REMOVE_WHEN_ORPHANED) and die at once.
// The engine's session then ends and PostgreSQL rolls the migration in flight back (its transaction never commits).
const parent = process.ppid
const watch = setInterval(() => {
  if (process.ppid === parent) return
  clearInterval(watch)
  const folder = process.env.MIGRATE_KIT_REMOVE_WHEN_ORPHANED
  if (folder) {
    try {
      require('node:fs').rmSync(folder, { recursive: true, force: true })
    } catch {
      // Nothing more can be done from here; `migrate-kit deploy` sweeps such folders too.
    }
  }
  process.kill(process.pid, 'SIGKILL')
}, 200)
watch.unref()
