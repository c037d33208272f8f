/** Words for messages, shared by every command's output. */

/** `1 migration`, `3 migrations`: a count with its noun, plural by adding an s. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** A database value as text: dates as ISO text, objects (json columns, arrays) as JSON, the rest as themselves. */
export function valueText(value: NonNullable<unknown>): string {
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return value.toString()
  return JSON.stringify(value)
}

/** `12.4 MB`, `816 kB`, `0 B`: sizes in the units pg_size_pretty uses. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}
