import { readFileSync } from 'node:fs'
import path from 'node:path'

let cached: string | undefined

/** The toolkit's own version, read from its package.json (works from src/ under jest and from dist/). */
export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version
  return cached
}
