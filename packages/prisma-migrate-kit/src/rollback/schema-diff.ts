import type { ObjectKind, SchemaObject, SchemaSnapshot } from './snapshot'

/** One way two snapshots differ. */
export interface SchemaDifference {
  kind: ObjectKind
  /** `column users.display_name` */
  object: string
  change: 'extra' | 'missing' | 'changed'
  /** For `changed`: the property that differs (`definition`, `type`, `values`, …). */
  property?: string
  /** The value in the snapshot under test (after the rollback), if any. */
  actual?: string
  /** The value in the reference snapshot (before the migration), if any. */
  expected?: string
  /** "column users.display_name: exists after rollback, absent before" */
  message: string
}

export interface DiffLabels {
  /** What the snapshot under test is, in messages: "after rollback". */
  actual: string
  /** What the reference is: "before". */
  expected: string
}

const KIND_ORDER: ObjectKind[] = [
  'schema',
  'extension',
  'enum',
  'domain',
  'type',
  'sequence',
  'table',
  'column',
  'constraint',
  'index',
  'view',
  'function',
  'trigger',
  'policy',
]

/**
 * Compares the snapshot under test with the reference, object by object and property by property. An object whose
 * parent (a table) is itself extra or missing is not listed again: "table profiles: exists after rollback, absent
 * before" says it, without every column, index and constraint of profiles after it.
 */
export function diffSchemas(actual: SchemaSnapshot, expected: SchemaSnapshot, labels: DiffLabels): SchemaDifference[] {
  const differences: SchemaDifference[] = []
  const keys = [...new Set([...Object.keys(actual.objects), ...Object.keys(expected.objects)])]
  const presentIn = (key: string) => ({ actual: key in actual.objects, expected: key in expected.objects })
  const parentDiffers = (object: SchemaObject) => {
    if (!object.parent) return false
    const parent = presentIn(object.parent)
    return parent.actual !== parent.expected
  }
  for (const key of keys) {
    const got = actual.objects[key]
    const want = expected.objects[key]
    const object = got ?? want
    const label = `${object.kind} ${object.name}`
    if (got && !want) {
      if (parentDiffers(got)) continue
      differences.push({
        kind: got.kind,
        object: label,
        change: 'extra',
        message: `${label}: exists ${labels.actual}, absent ${labels.expected}`,
      })
      continue
    }
    if (want && !got) {
      if (parentDiffers(want)) continue
      differences.push({
        kind: want.kind,
        object: label,
        change: 'missing',
        message: `${label}: absent ${labels.actual}, exists ${labels.expected}`,
      })
      continue
    }
    const properties = [...new Set([...Object.keys(got.properties), ...Object.keys(want.properties)])].sort()
    for (const property of properties) {
      const actualValue = got.properties[property]
      const expectedValue = want.properties[property]
      if (actualValue === expectedValue) continue
      differences.push({
        kind: object.kind,
        object: label,
        change: 'changed',
        property,
        ...(actualValue === undefined ? {} : { actual: actualValue }),
        ...(expectedValue === undefined ? {} : { expected: expectedValue }),
        message: `${label}: ${property} differs: ${show(actualValue)} ${labels.actual} vs ` + `${show(expectedValue)} ${labels.expected}`,
      })
    }
  }
  return differences.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.object.localeCompare(b.object))
}

function show(value: string | undefined): string {
  if (value === undefined) return '(none)'
  const oneLine = value.replace(/\s+/g, ' ').trim()
  return oneLine.length > 200 ? `"${oneLine.slice(0, 197)}…"` : `"${oneLine}"`
}
