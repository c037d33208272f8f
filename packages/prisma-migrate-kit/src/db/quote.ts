/** Quotes an identifier for PostgreSQL ("my ""odd"" name"). Values are never quoted by hand: bind them. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** Quotes a possibly schema-qualified name given as separate parts. */
export function quoteQualified(...parts: string[]): string {
  return parts.map(quoteIdent).join('.')
}

/** Quotes a string literal, for the rare statement that cannot take bind parameters (CREATE DATABASE, SET). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}
