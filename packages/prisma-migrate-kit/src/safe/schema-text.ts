/**
 * The models and fields of a Prisma schema as text, to edit the way a developer would: one field line made optional,
 * one added or removed, everything else (comments, order, formatting, other files of a multi-file schema) untouched.
 * Prisma's grammar puts each field on a line of its own, which is what makes line edits safe here.
 */

export interface SchemaFile {
  path: string
  content: string
}

export interface FieldLine {
  /** The Prisma field name (what Prisma Client calls it). */
  name: string
  /** The column: `@map("…")`, or the field name. */
  column: string
  /** The type as written, without `?` or `[]`: `String`, `Role`, `Unsupported("tsvector")`. */
  type: string
  optional: boolean
  list: boolean
  /** 0-based line in its file. */
  line: number
  text: string
  /** `///` lines just above the field: Prisma's documentation comments. */
  docs: string[]
}

export interface RelationLine {
  name: string
  /** The related model. */
  type: string
  line: number
  text: string
  /** `@relation("name")` / `@relation(name: "name")`: what pairs the two sides when two models have several relations. */
  relationName?: string
  /** `fields: [a, b]`: the side that holds the foreign key. */
  fields?: string[]
}

export interface ModelBlock {
  name: string
  /** `///` lines just above `model X {`. */
  docs: string[]
  /** The table: `@@map("…")`, or the model name. */
  table: string
  /** `@@schema("…")` when the schema uses several PostgreSQL schemas. */
  dbSchema?: string
  file: string
  /** 0-based lines of `model X {` and of its closing `}`. */
  start: number
  end: number
  /** Scalar and enum fields: those with a column (relation fields are left out). */
  fields: FieldLine[]
  /** Relation fields (their type is a model): `author User @relation(fields: [authorId], references: [id])`, `posts Post[]`. */
  relations: RelationLine[]
  /** `@@…` lines (`@@unique([a, b])`, `@@map("t")`), without their comments. */
  attributes: Array<{ line: number; text: string }>
}

const MODEL_START = /^\s*model\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{\s*(\/\/.*)?$/
const BLOCK_START = /^\s*(model|enum|type|view|datasource|generator)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{/
const BLOCK_END = /^\s*\}\s*(\/\/.*)?$/
const FIELD = /^(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s+)([A-Za-z_][A-Za-z0-9_]*(?:\([^)]*\))?)(\?|\[\])?(.*)$/

/** `@map("x")` / `@@map("x")` / `@@schema("x")`: the string argument of an attribute, outside comments. */
function attributeArgument(text: string, attribute: string): string | undefined {
  const code = withoutComment(text)
  const match = new RegExp(`${attribute}\\(\\s*(?:name\\s*:\\s*)?"((?:[^"\\\\]|\\\\.)*)"`).exec(code)
  return match?.[1]
}

/** The line up to a `//` comment that is not inside a string. */
function withoutComment(text: string): string {
  let inString = false
  for (let index = 0; index < text.length; index++) {
    const char = text[index]
    if (char === '\\' && inString) index++
    else if (char === '"') inString = !inString
    else if (!inString && char === '/' && text[index + 1] === '/') return text.slice(0, index)
  }
  return text
}

/** Every model of the schema's files, with the fields that map to columns. */
export function readModels(files: SchemaFile[]): ModelBlock[] {
  const blocks: Array<{ kind: string; name: string; file: string; start: number; end: number; lines: string[] }> = []
  for (const file of files) {
    const lines = file.content.split('\n')
    for (let index = 0; index < lines.length; index++) {
      const start = BLOCK_START.exec(lines[index])
      if (!start) continue
      let end = index + 1
      while (end < lines.length && !BLOCK_END.test(lines[end])) end++
      blocks.push({ kind: start[1], name: start[2], file: file.path, start: index, end, lines })
      index = end
    }
  }
  // A field whose type is another model (or a composite type) is a relation: it has no column of its own.
  const notColumns = new Set(blocks.filter((block) => block.kind === 'model' || block.kind === 'type').map((block) => block.name))
  return blocks
    .filter((block) => block.kind === 'model' && MODEL_START.test(block.lines[block.start]))
    .map((block) => {
      const fields: FieldLine[] = []
      const attributes: ModelBlock['attributes'] = []
      const relations: RelationLine[] = []
      let table = block.name
      let dbSchema: string | undefined
      for (let line = block.start + 1; line < block.end; line++) {
        const text = block.lines[line]
        const code = withoutComment(text).trim()
        if (code === '') continue
        if (code.startsWith('@@')) {
          attributes.push({ line, text: code })
          table = attributeArgument(code, '@@map') ?? table
          dbSchema = attributeArgument(code, '@@schema') ?? dbSchema
          continue
        }
        const field = FIELD.exec(withoutComment(text).replace(/\s+$/, ''))
        if (field && notColumns.has(field[4])) {
          const relation = attributesOfField(text).find((attribute) => attribute.name === '@relation')?.text ?? ''
          const relationName = /^@relation\(\s*(?:name\s*:\s*)?"([^"]*)"/.exec(relation)?.[1]
          const fieldList = /\bfields\s*:\s*\[([^\]]*)\]/.exec(relation)?.[1]
          relations.push({
            name: field[2],
            type: field[4],
            line,
            text,
            ...(relationName !== undefined ? { relationName } : {}),
            ...(fieldList !== undefined
              ? {
                  fields: fieldList
                    .split(',')
                    .map((name) => name.trim())
                    .filter(Boolean),
                }
              : {}),
          })
          continue
        }
        if (!field) continue
        const docs: string[] = []
        for (let above = line - 1; above > block.start && /^\s*\/\/\//.test(block.lines[above]); above--) {
          docs.unshift(block.lines[above].replace(/^\s*\/\/\/\s?/, ''))
        }
        fields.push({
          name: field[2],
          column: attributeArgument(field[6], '@map') ?? field[2],
          type: field[4],
          optional: field[5] === '?',
          list: field[5] === '[]',
          line,
          text,
          docs,
        })
      }
      const docs: string[] = []
      for (let above = block.start - 1; above >= 0 && /^\s*\/\/\//.test(block.lines[above]); above--) {
        docs.unshift(block.lines[above].replace(/^\s*\/\/\/\s?/, ''))
      }
      return {
        name: block.name,
        docs,
        table,
        ...(dbSchema ? { dbSchema } : {}),
        file: block.file,
        start: block.start,
        end: block.end,
        fields,
        relations,
        attributes,
      }
    })
}

/** The schema's enums by the PostgreSQL type they make (`@@map`, `@@schema` respected): type name → enum name. */
export function readEnums(files: SchemaFile[]): Map<string, string> {
  const enums = new Map<string, string>()
  for (const file of files) {
    const lines = file.content.split('\n')
    for (let index = 0; index < lines.length; index++) {
      const start = /^\s*enum\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{/.exec(lines[index])
      if (!start) continue
      let name = start[1]
      let schema: string | undefined
      for (index++; index < lines.length && !BLOCK_END.test(lines[index]); index++) {
        name = attributeArgument(lines[index], '@@map') ?? name
        schema = attributeArgument(lines[index], '@@schema') ?? schema
      }
      enums.set(schema ? `${schema}.${name}` : name, start[1])
    }
  }
  return enums
}

/** The model of a table as PostgreSQL names it (`users`, or `app.users` outside the default schema). */
export function modelOfTable(models: ModelBlock[], table: string): ModelBlock | undefined {
  const exact = models.filter((model) => (model.dbSchema ? `${model.dbSchema}.${model.table}` : model.table) === table)
  if (exact.length === 1) return exact[0]
  const plain = models.filter((model) => model.table === table)
  return plain.length === 1 ? plain[0] : undefined
}

/** A field line with its `?` set or removed, nothing else changed. */
export function withOptional(text: string, optional: boolean): string {
  const match = FIELD.exec(text)
  if (!match) throw new Error(`not a field line: ${text}`)
  const [, indent, name, space, type, modifier = '', rest] = match
  if (modifier === '[]') return text
  return `${indent}${name}${space}${type}${optional ? '?' : ''}${rest}`
}

/** The attributes of a field line (`@db.VarChar(20)`, `@default(dbgenerated("…"))`), each with its arguments. */
export function fieldAttributes(rest: string): Array<{ name: string; text: string }> {
  const code = withoutComment(rest)
  const attributes: Array<{ name: string; text: string }> = []
  let index = 0
  while (index < code.length) {
    const at = code.indexOf('@', index)
    if (at < 0) break
    const name = /^@[A-Za-z_][A-Za-z0-9_.]*/.exec(code.slice(at))?.[0]
    if (!name) {
      index = at + 1
      continue
    }
    let end = at + name.length
    if (code[end] === '(') {
      let depth = 0
      let inString = false
      for (; end < code.length; end++) {
        const char = code[end]
        if (inString) {
          if (char === '\\') end++
          else if (char === '"') inString = false
        } else if (char === '"') inString = true
        else if (char === '(') depth++
        else if (char === ')' && --depth === 0) {
          end++
          break
        }
      }
    }
    attributes.push({ name, text: code.slice(at, end) })
    index = end
  }
  return attributes
}

/** The attributes of a field line. */
export function attributesOfField(text: string): Array<{ name: string; text: string }> {
  return fieldAttributes(FIELD.exec(withoutComment(text).trimEnd())?.[6] ?? '')
}

/** A field line with one more attribute, written before its comment. */
export function withAttribute(text: string, attribute: string): string {
  const code = withoutComment(text)
  const comment = text.slice(code.length)
  return `${code.trimEnd()} ${attribute}${comment ? ` ${comment}` : ''}`
}

/** A field line without one of its attributes (its exact text, as fieldAttributes gives it). */
export function withoutAttribute(text: string, attribute: string): string {
  const code = withoutComment(text)
  const at = code.indexOf(attribute)
  if (at < 0) return text
  return `${code.slice(0, at).trimEnd()}${code.slice(at + attribute.length)}${text.slice(code.length)}`
}

/** The fields a `@@unique([a, b(sort: Desc)])` or `@@id(fields: [a, b], map: "x")` line names, in order. */
export function attributeFields(attribute: string, name: '@@unique' | '@@id'): string[] | undefined {
  const match = new RegExp(`^${name}\\(\\s*(?:fields\\s*:\\s*)?\\[([^\\]]*)\\]`).exec(attribute.trim())
  if (!match) return undefined
  return match[1]
    .split(',')
    .map((part) => /^\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(part)?.[1])
    .filter((name): name is string => name !== undefined)
}

/**
 * A field line made optional and ignored by Prisma Client (`name String? @ignore`), its column kept: what a release
 * has for a column it must no longer read or write. Its comment is replaced by `comment`.
 */
export function ignoredFieldLine(text: string, comment: string): string {
  const code = withOptional(withoutComment(text).trimEnd(), true)
  const ignored = attributesOfField(code).some((attribute) => attribute.name === '@ignore')
  return `${code}${ignored ? '' : ' @ignore'} ${comment}`
}

/**
 * The line of the old field of a rename, written from the new one: same type, native type (`@db.…`) and @default,
 * under the old name and column (`@map` when they differ), `@unique` when the old column has Prisma's unique index.
 * Other attributes (`@id`, `@updatedAt`, relations) belong to the new field alone.
 */
export function renamedFieldLine(text: string, name: string, column: string, options: { unique: boolean }): string {
  const match = FIELD.exec(text)
  if (!match) throw new Error(`not a field line: ${text}`)
  const [, indent, , space, type, modifier = '', rest] = match
  const kept = fieldAttributes(rest).filter((attribute) => attribute.name.startsWith('@db.') || attribute.name === '@default')
  const attributes = [
    ...kept.map((attribute) => attribute.text),
    ...(options.unique ? ['@unique'] : []),
    ...(column === name ? [] : [`@map("${column}")`]),
  ]
  return `${indent}${name}${space}${type}${modifier}${attributes.length > 0 ? ` ${attributes.join(' ')}` : ''}`
}

/** A field line without the attributes `drop` picks (by name: `@default`, `@db.VarChar`…), its comment kept. */
export function withoutAttributes(text: string, drop: (name: string) => boolean): string {
  return attributesOfField(text)
    .filter((attribute) => drop(attribute.name))
    .reduce((line, attribute) => withoutAttribute(line, attribute.text), text)
}

/** A field line of another type: `age Int` → `age BigInt`, its native type (`@db.…`) replaced by `native`. */
export function retypedFieldLine(text: string, type: string, native: string | undefined): string {
  const plain = withoutAttributes(text, (name) => name.startsWith('@db.'))
  const match = FIELD.exec(plain)
  if (!match) throw new Error(`not a field line: ${text}`)
  const [, indent, name, space, , modifier = '', rest] = match
  return `${indent}${name}${space}${type}${modifier}${native ? ` ${native}` : ''}${rest}`
}

/** A field line under another field name and column: `age Int` → `age_old Int @map("age")` (no @map when they are equal). */
export function movedFieldLine(text: string, name: string, column: string): string {
  const plain = withoutAttributes(text, (attribute) => attribute === '@map')
  const match = FIELD.exec(plain)
  if (!match) throw new Error(`not a field line: ${text}`)
  const [, indent, , space, type, modifier = '', rest] = match
  const line = `${indent}${name}${space}${type}${modifier}${rest}`
  return column === name ? line : withAttribute(line, `@map("${column.replace(/"/g, '\\"')}")`)
}

/** Line edits to apply to schema files, all at once: each names a line of the files as they were read. */
export type SchemaEdit =
  | { kind: 'replace'; file: string; line: number; text: string }
  | { kind: 'insert-after'; file: string; line: number; lines: string[] }
  | { kind: 'remove'; file: string; line: number }

export function applyEdits(files: SchemaFile[], edits: SchemaEdit[]): SchemaFile[] {
  return files.map((file) => {
    const mine = edits.filter((edit) => edit.file === file.path)
    if (mine.length === 0) return file
    const lines = file.content.split('\n')
    const out: string[] = []
    lines.forEach((text, line) => {
      const here = mine.filter((edit) => edit.line === line)
      const replaced = here.find((edit) => edit.kind === 'replace')
      if (!here.some((edit) => edit.kind === 'remove')) out.push(replaced?.kind === 'replace' ? replaced.text : text)
      for (const edit of here) if (edit.kind === 'insert-after') out.push(...edit.lines)
    })
    return { path: file.path, content: out.join('\n') }
  })
}
