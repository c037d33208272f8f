import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * The files one `new --safe` or `new --continue` writes, undone together when a later step fails: a split change is
 * written whole or not at all (migrations without their rollbacks, or a schema without its migrations, would be a
 * project half-changed).
 */
export class FileTransaction {
  private readonly created: string[] = []
  private readonly replaced = new Map<string, string>()

  /** Writes `file`, remembering what was there (or that nothing was). */
  write(file: string, content: string): void {
    if (!this.replaced.has(file) && !this.created.includes(file)) {
      if (existsSync(file)) this.replaced.set(file, readFileSync(file, 'utf8'))
      else this.created.push(file)
    }
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, content)
  }

  /** A folder this transaction makes, removed whole on undo (a migration folder and what the tools put in it). */
  folder(dir: string): void {
    mkdirSync(dir, { recursive: true })
    this.created.push(dir)
  }

  /** Also removed on undo: a file written by another module (a rollback.sql) and its folder. */
  track(file: string): void {
    if (!this.created.includes(file)) this.created.push(file)
  }

  undo(): void {
    for (const file of [...this.created].reverse()) rmSync(file, { recursive: true, force: true })
    for (const [file, content] of this.replaced) writeFileSync(file, content)
  }
}
