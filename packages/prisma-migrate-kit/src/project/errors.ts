import { InputError, type ErrorDetails } from '../errors'

/** The project's configuration cannot be read, or names paths that are not there. Exit 2; nothing was changed. */
export class ProjectConfigError extends InputError {
  constructor(
    message: string,
    file: string | undefined,
    details: ErrorDetails = {},
    /** The setting at fault: `schema`, `migrations.path`, `--config`, `migrateKit.rollbacks`, … */
    readonly setting?: string,
  ) {
    super(message, file, undefined, details)
  }
}
