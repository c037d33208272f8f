import { readFileSync } from 'node:fs'
import { InputError } from '../errors'
import { SourceText } from './source'

/**
 * Reads a SQL file the way PostgreSQL will see it, refusing what it would reject or read differently: a NUL byte
 * (PostgreSQL's parser and ours stop at it, so everything after it would go unseen) and bytes that are not UTF-8
 * (Node would turn them into U+FFFD without a word). `shownAs` is the path messages name.
 */
export function readSqlFile(file: string, shownAs: string = file): string {
  const bytes = readFileSync(file)
  const invalid = firstInvalidUtf8(bytes)
  if (invalid !== undefined) {
    throw unreadable(shownAs, bytes, invalid, `byte 0x${bytes[invalid].toString(16).padStart(2, '0')} is not valid UTF-8`)
  }
  const text = bytes.toString('utf8')
  assertNoNul(text, shownAs)
  return text
}

/** Refuses SQL text holding a NUL character: the parser would stop there and lint only what comes before it. */
export function assertNoNul(text: string, shownAs: string): void {
  const nul = text.indexOf('\0')
  if (nul === -1) return
  const bytes = Buffer.from(text, 'utf8')
  throw unreadable(shownAs, bytes, Buffer.byteLength(text.slice(0, nul), 'utf8'), 'a NUL byte (0x00)')
}

function unreadable(shownAs: string, bytes: Buffer, offset: number, what: string): InputError {
  const { line, column } = new SourceText(bytes.subarray(0, offset).toString('utf8')).positionAt(offset)
  return new InputError(
    `${shownAs} cannot be read as SQL: ${what} at byte offset ${offset} (line ${line}, column ${column}). ` +
      `PostgreSQL rejects such a file, and nothing after that byte could be checked.`,
    shownAs,
    line,
    { hint: 'Save the file as UTF-8 text without NUL bytes (`iconv -f <encoding> -t UTF-8`, or remove the byte), then run again.' },
  )
}

/** Byte offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF). */
export function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  let offset = 0
  while (offset < bytes.length) {
    const lead = bytes[offset]
    if (lead < 0x80) {
      offset++
      continue
    }
    // The allowed range of the second byte depends on the lead byte; the later ones are always 0x80–0xBF.
    let length: number
    let low = 0x80
    let high = 0xbf
    if (lead >= 0xc2 && lead <= 0xdf) length = 2
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3
      if (lead === 0xe0) low = 0xa0
      if (lead === 0xed) high = 0x9f
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4
      if (lead === 0xf0) low = 0x90
      if (lead === 0xf4) high = 0x8f
    } else return offset
    for (let index = 1; index < length; index++) {
      const byte = bytes[offset + index]
      if (byte === undefined) return offset
      const [min, max] = index === 1 ? [low, high] : [0x80, 0xbf]
      if (byte < min || byte > max) return offset
    }
    offset += length
  }
  return undefined
}
