import { InvalidArgumentError, Option, type Command } from 'commander'
import { RUN_OPTIONS, optionHelp, parseOptionValue, type RunOptionSpec, type RunTuning, type SettingsCommand } from '../../backfill/options'

/** The backfill settings as flags, from the one table (backfill/options.ts): what each command shows and reads. */

function specsOf(target: SettingsCommand): RunOptionSpec[] {
  return RUN_OPTIONS.filter((spec) => spec.commands.includes(target))
}

/** commander's attribute name of a flag: `backfill-batch-size` → `backfillBatchSize`. */
function attributeOf(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())
}

/** Adds the settings `target` takes, as --<flag>, or --<prefix><flag> where they sit beside other flags (deploy). */
export function addRunOptions(command: Command, target: SettingsCommand, prefix = ''): Command {
  for (const spec of specsOf(target)) {
    const kind = spec.kind
    const option =
      kind === 'switch'
        ? new Option(`--${prefix}${spec.flag}`, optionHelp(spec, target))
        : kind === 'text'
          ? new Option(`--${prefix}${spec.flag} ${spec.value}`, optionHelp(spec, target))
          : new Option(`--${prefix}${spec.flag} ${spec.value}`, optionHelp(spec, target)).argParser((text: string) => {
              const parsed = parseOptionValue(kind, text)
              if ('error' in parsed) throw new InvalidArgumentError(parsed.error)
              return parsed.value
            })
    command.addOption(option)
  }
  return command
}

/** The settings given on the command line, keyed as the runner and the restore take them. */
export function runTuningFrom(values: object, target: SettingsCommand, prefix = ''): RunTuning {
  const given = values as Record<string, unknown>
  const tuning: RunTuning = {}
  for (const spec of specsOf(target)) {
    const value = given[attributeOf(`${prefix}${spec.flag}`)]
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') Object.assign(tuning, { [spec.key]: value })
  }
  return tuning
}

/** The flags of the settings given, as typed: for a message that names them. */
export function givenRunFlags(values: object, target: SettingsCommand, prefix = ''): string[] {
  const given = values as Record<string, unknown>
  return specsOf(target)
    .filter((spec) => given[attributeOf(`${prefix}${spec.flag}`)] !== undefined)
    .map((spec) => `--${prefix}${spec.flag}`)
}
