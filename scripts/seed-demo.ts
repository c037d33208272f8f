/**
 * Fills the example app with deterministic demo data (scripts/lib/demo-data.ts), fast enough for 10 million users.
 *
 *   npm run seed -- --users 100000 --seed 42 [--reset]
 */
import { Command } from 'commander'
import { connect, openDatabase, projectAt } from 'prisma-migrate-kit'
import { seedDemo } from './lib/demo-data'
import { runScript, wholeNumber } from './lib/script'

async function main(argv: string[]): Promise<void> {
  const program = new Command('seed-demo')
    .description('Fill the example app with deterministic demo data (set-based SQL, chunked).')
    .option('--users <n>', 'number of users (about 5 completions each)', wholeNumber, 100_000)
    .option('--seed <s>', 'the same seed gives the same data', wholeNumber, 42)
    .option('--reset', 'empty users, daily_puzzles and puzzle_completions first')
    .exitOverride()
  program.parse(argv, { from: 'user' })
  const options = program.opts<{ users: number; seed: number; reset?: boolean }>()
  const database = await openDatabase(projectAt(process.cwd()), { announce: (line) => console.error(line) })
  const client = await connect(database.url, { applicationName: 'migrate-kit seed-demo' })
  try {
    const result = await seedDemo(client, { ...options, log: (line) => console.error(line) })
    console.log(
      `Seeded ${result.users.toLocaleString('en-US')} users, ${result.puzzles.toLocaleString('en-US')} puzzles and ${result.completions.toLocaleString('en-US')} completions in ${result.seconds.toFixed(1)} s.`,
    )
  } finally {
    await client.end()
    await database.close()
  }
}

runScript('seed', main)
