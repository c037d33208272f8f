/**
 * A migration file's text with the three ways of pointing into it that the toolchain mixes: the parser reports
 * UTF-8 BYTE offsets for statements and nodes, its errors report a CHARACTER (code point) offset, and people read
 * 1-based lines and columns. Everything converts here, so no rule slices a JS string with a byte offset.
 */
export class SourceText {
  readonly bytes: Buffer
  /** Byte offset at which each line starts; lineStarts[0] is 0. */
  private readonly lineStarts: number[]

  constructor(readonly text: string) {
    this.bytes = Buffer.from(text, 'utf8')
    this.lineStarts = [0]
    for (let offset = 0; offset < this.bytes.length; offset++) {
      if (this.bytes[offset] === 0x0a) this.lineStarts.push(offset + 1)
    }
  }

  get byteLength(): number {
    return this.bytes.length
  }

  /** 1-based line of a byte offset (offsets past the end belong to the last line). */
  lineAt(byteOffset: number): number {
    let low = 0
    let high = this.lineStarts.length - 1
    while (low < high) {
      const middle = (low + high + 1) >> 1
      if (this.lineStarts[middle] <= byteOffset) low = middle
      else high = middle - 1
    }
    return low + 1
  }

  /** Byte offset at which a 1-based line starts (lines past the end start at the end). */
  lineStart(line: number): number {
    return this.lineStarts[line - 1] ?? this.bytes.length
  }

  /** 1-based line and 1-based column counted in characters (code points), as editors show them. */
  positionAt(byteOffset: number): { line: number; column: number } {
    const line = this.lineAt(byteOffset)
    const lineStart = this.lineStarts[line - 1]
    const column = [...this.bytes.subarray(lineStart, Math.max(lineStart, byteOffset)).toString('utf8')].length + 1
    return { line, column }
  }

  /** The text between two byte offsets. */
  slice(startByte: number, endByte = this.bytes.length): string {
    return this.bytes.subarray(startByte, endByte).toString('utf8')
  }

  /** Byte offset of a code point offset into `text` (what PostgreSQL's error cursor counts). */
  static byteOffsetOfCodePoint(text: string, codePointOffset: number): number {
    let bytes = 0
    let seen = 0
    for (const character of text) {
      if (seen >= codePointOffset) break
      bytes += Buffer.byteLength(character, 'utf8')
      seen++
    }
    return bytes
  }
}
