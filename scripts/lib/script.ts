/** What the npm scripts (start, seed, bench) share: number options and one way to end on an error. */
import { InvalidArgumentError } from 'commander'

// Commander calls a parser with (value, previous value): these take the value alone.

/** `--users 1_000_000` reads as 1000000; anything but a whole number ≥ min is refused with commander's exit 2. */
function integerAtLeast(value: string, min: number): number {
  const parsed = Number(value.replace(/_/g, ''))
  if (!Number.isInteger(parsed) || parsed < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}`)
  return parsed
}

export function wholeNumber(value: string): number {
  return integerAtLeast(value, 0)
}

export function positiveInteger(value: string): number {
  return integerAtLeast(value, 1)
}

export function positiveNumber(value: string): number {
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a number > 0')
  return parsed
}

/**
 * Runs a script's main and exits with the code DESIGN.md gives: 0 after --help, 2 for a bad option (commander has
 * said why), a typed error's own exit code, 1 for anything else, with its hint on the next line.
 */
export function runScript(label: string, main: (argv: string[]) => Promise<void>): void {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const { code, exitCode, hint, message } = error as { code?: string; exitCode?: number; hint?: string; message?: string }
    if (code?.startsWith('commander.')) process.exit(code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : 2)
    process.stderr.write(`${label} failed: ${message ?? String(error)}\n`)
    if (hint) process.stderr.write(`${hint}\n`)
    process.exit(typeof exitCode === 'number' ? exitCode : 1)
  })
}
