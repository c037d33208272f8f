/** Words for messages, shared by every command's output. */

/** `1 migration`, `3 migrations`: a count with its noun, plural by adding an s. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
