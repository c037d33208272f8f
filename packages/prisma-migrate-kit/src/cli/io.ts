import { scrubEnvironmentSecrets } from '../db/url'

/** Where a command writes. Everything for stderr is scrubbed of the database password. */
export interface CliIO {
  /** A line of the command's result (tables, summaries). With --json, only the JSON document goes here. */
  out: (line: string) => void
  /** A line of progress or diagnostics, on stderr. */
  err: (line: string) => void
  /** Whether stderr is a terminal (progress bars, colours). */
  readonly interactive: boolean
}

export function processIO(): CliIO {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${scrubEnvironmentSecrets(line)}\n`),
    interactive: Boolean(process.stderr.isTTY),
  }
}

/** One JSON document for scripts: stable field names, nothing else on stdout. */
export function printJson(io: CliIO, value: unknown): void {
  io.out(JSON.stringify(value, null, 2))
}

/** Renders rows as an aligned text table for terminals. */
export function formatTable(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)]
}
