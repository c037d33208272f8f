import { scrubSecrets } from '../../db/url'

/**
 * The engine's stderr: one JSON object per line, as the native engine writes them (the CLI collects `fields.message`
 * and remembers the last ERROR line). Everything written here or in an error reply is scrubbed of the datasource
 * passwords first.
 */

const secretUrls = new Set<string>()

/** Registers a URL whose password must never appear in anything the engine prints. */
export function addSecretUrl(url: string | undefined): void {
  if (url) secretUrls.add(url)
}

export function scrub(text: string): string {
  let result = text
  for (const url of secretUrls) result = scrubSecrets(result, url)
  return result
}

export type LogLevel = 'INFO' | 'WARN' | 'ERROR' | 'DEBUG'

export interface LogFields {
  message: string
  [field: string]: unknown
}

export function logLine(level: LogLevel, fields: LogFields, target = 'schema_engine'): void {
  writeStderr(JSON.stringify({ timestamp: new Date().toISOString(), level, fields, target }))
}

/** A log line the WebAssembly engine produced (already JSON), passed on as one line. */
export function forwardEngineLog(line: string): void {
  const trimmed = line.trim()
  if (trimmed) writeStderr(trimmed)
}

function writeStderr(line: string): void {
  try {
    process.stderr.write(`${scrub(line)}\n`)
  } catch {
    // The CLI may already have closed our stderr while we clean up; nothing left to tell.
  }
}
