import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { CliContext } from '../packages/prisma-migrate-kit/src/cli/context'
import { buildProgram } from '../packages/prisma-migrate-kit/src/cli/main'
import { projectAt } from '../packages/prisma-migrate-kit/src/project'
import { REPO_ROOT } from './helpers/project'

// README.md is what people copy into a terminal or a CI file: every `npx migrate-kit …` in it must name a real command
// (and subcommand) and only options that command has. tests/deploy-readme.test.ts also checks shown outputs.

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')

function program(): Command {
  const io = { out: () => undefined, err: () => undefined, interactive: false }
  return buildProgram(new CliContext(projectAt(REPO_ROOT), io), () => undefined)
}

/** The command a README line names, and the flags it is shown with. */
function resolve(root: Command, line: string): { command: Command | undefined; flags: string[] } {
  const words = line.split(/\s+/)
  let command = root.commands.find((candidate) => candidate.name() === words[0])
  let rest = words.slice(1)
  const sub = command?.commands.find((candidate) => candidate.name() === rest[0])
  if (sub) {
    command = sub
    rest = rest.slice(1)
  }
  return { command, flags: rest.filter((word) => word.startsWith('--')).map((flag) => flag.replace(/=.*$/, '')) }
}

test('the two commands of the quick start are there', () => {
  expect(readme).toContain('npm ci && npm start')
  expect(readme).toMatch(/^npm test$/m)
})

test('every migrate-kit command in README.md exists, with the options it is shown with', () => {
  const lines = [...readme.matchAll(/npx migrate-kit ([^`\n#|]+)/g)].map((match) => match[1].trim())
  expect(lines.length).toBeGreaterThan(40)
  const root = program()
  const named = new Set<string>()
  for (const line of lines) {
    const { command, flags } = resolve(root, line)
    expect({ line, found: command !== undefined }).toEqual({ line, found: true })
    named.add(command!.parent === root ? command!.name() : `${command!.parent!.name()} ${command!.name()}`)
    if (command!.name() === 'prisma') continue // its options are Prisma's
    const known = new Set(command!.options.map((option) => option.long))
    for (const flag of flags) expect({ line, flag, known: known.has(flag) }).toEqual({ line, flag, known: true })
  }
  // Every command the CLI has is shown at least once.
  const all = root.commands.flatMap((command) =>
    command.commands.length > 0 ? command.commands.map((sub) => `${command.name()} ${sub.name()}`) : [command.name()],
  )
  expect(all.filter((name) => name !== 'help' && !named.has(name))).toEqual([])
})
