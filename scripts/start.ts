/**
 * `npm start`: the example app's whole story on a real database, with the commands an operator would type:
 *
 *   deploy            applies init and the expand migrations, then stops at the gate (exit 3): the contract
 *                     migrations wait for the users_display_name backfill
 *   seed              demo data, while users.username still exists (after expand, before contract)
 *   backfill run      users_display_name, users_total_puzzles
 *   deploy            passes the gate, applies the contract migrations, runs the integrity checks
 *   check, status
 *
 * With no DATABASE_URL it runs on the embedded PostgreSQL under .migrate-kit/ (started once here and shared by every
 * command below through DATABASE_URL). Running it again continues from where the database is, and says when
 * everything was already done.
 *
 *   npm start [-- --users N]
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { Command } from 'commander'
import { connect, openDatabase, projectAt } from 'prisma-migrate-kit'
import { seedDemo } from './lib/demo-data'
import { runScript, wholeNumber } from './lib/script'

const ROOT = path.resolve(__dirname, '..')
// The binary as a user's project has it: node_modules/.bin/migrate-kit of the installed package.
const BIN = path.join(ROOT, 'node_modules', 'prisma-migrate-kit', 'bin', 'migrate-kit.js')

interface StepResult {
  title: string
  outcome: string
  /** Nothing was left to do in this step (always true for steps that only read). */
  alreadyDone: boolean
  seconds: number
}

const results: StepResult[] = []

function heading(text: string): void {
  process.stdout.write(`\n== ${text}\n`)
}

interface Ran {
  code: number
  stdout: string
}

/**
 * Runs the real binary as a user would. Its stderr is this terminal (progress bars, the gate's message); its stdout is
 * shown as it comes and kept, so the summary can say what the command found.
 */
function migrateKit(args: string[]): Promise<Ran> {
  process.stdout.write(`$ npx migrate-kit ${args.join(' ')}\n`)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['inherit', 'pipe', 'inherit'], env: process.env })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      process.stdout.write(chunk)
    })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout }))
  })
}

interface Outcome {
  outcome: string
  /** Nothing was left to do; steps that only read (check, status) leave it out and count as done. */
  alreadyDone?: boolean
}

async function step(title: string, run: () => Promise<Outcome>): Promise<void> {
  heading(title)
  const started = performance.now()
  const { outcome, alreadyDone = true } = await run()
  results.push({ title, outcome, alreadyDone, seconds: (performance.now() - started) / 1000 })
}

/** Exit codes of DESIGN.md that a story step may legitimately end with; anything else stops the story. */
function expectCode(ran: Ran, allowed: number[]): Ran {
  if (!allowed.includes(ran.code)) throw new Error(`the command exited with ${ran.code}; see its message above`)
  return ran
}

function deployOutcome(ran: Ran): Outcome {
  if (ran.code === 3) return { outcome: 'stopped at the gate (exit 3): the contract waits for a backfill', alreadyDone: false }
  if (/nothing to apply/.test(ran.stdout)) return { outcome: 'nothing to apply; integrity checks pass' }
  return { outcome: 'migrations applied; integrity checks pass', alreadyDone: false }
}

function backfillOutcome(ran: Ran): Outcome {
  if (/no longer needed/.test(ran.stdout)) return { outcome: 'no longer needed: its contract migration is applied' }
  if (/already done/.test(ran.stdout)) return { outcome: 'already done' }
  return { outcome: 'done and verified', alreadyDone: false }
}

async function main(argv: string[]): Promise<void> {
  const options = new Command('start')
    .description('Run the example app story: deploy (stops at the gate), seed, backfill, deploy (contract), check.')
    .option('--users <n>', 'demo users to seed into an empty database', wholeNumber, 100_000)
    .parse(argv, { from: 'user' })
    .opts<{ users: number }>()
  const started = performance.now()
  const database = await openDatabase(projectAt(ROOT), { announce: (line) => process.stdout.write(`${line}\n`) })
  try {
    await step('Deploy: what may run now; the gate holds the contract', async () =>
      deployOutcome(expectCode(await migrateKit(['deploy']), [0, 3])),
    )

    await step(`Seed demo data (${options.users.toLocaleString('en-US')} users)`, async () => {
      const client = await connect(database.url, { applicationName: 'migrate-kit demo seed' })
      try {
        const { rows } = await client.query<{ present: boolean }>('SELECT EXISTS (SELECT 1 FROM users) AS present')
        if (rows[0]?.present) {
          process.stdout.write('The database already has users: keeping them (npm run seed -- --reset to start over).\n')
          return { outcome: 'kept existing data' }
        }
        const seeded = await seedDemo(client, { users: options.users, seed: 42, log: (line) => process.stdout.write(`${line}\n`) })
        return {
          outcome: `${seeded.users.toLocaleString('en-US')} users, ${seeded.completions.toLocaleString('en-US')} completions`,
          alreadyDone: false,
        }
      } finally {
        await client.end()
      }
    })

    for (const backfill of ['users_display_name', 'users_total_puzzles']) {
      await step(`Backfill ${backfill}`, async () => backfillOutcome(expectCode(await migrateKit(['backfill', 'run', backfill]), [0])))
    }

    await step('Deploy again: the gate opens, the contract runs', async () => deployOutcome(expectCode(await migrateKit(['deploy']), [0])))
    await step('Check: rollbacks, lint, drift, edits, integrity', async () => {
      expectCode(await migrateKit(['check']), [0])
      return { outcome: 'passed' }
    })
    await step('Status', async () => {
      expectCode(await migrateKit(['status']), [0])
      return { outcome: 'shown' }
    })
  } finally {
    await database.close()
  }

  heading(`Summary (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  for (const result of results) {
    process.stdout.write(`${result.title.padEnd(54)} ${result.outcome} (${result.seconds.toFixed(1)} s)\n`)
  }
  if (results.every((result) => result.alreadyDone)) {
    process.stdout.write('\nEverything was already done: every migration is applied, every backfill finished, and the checks pass.\n')
  }
}

runScript('npm start', main)
