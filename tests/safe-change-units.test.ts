import { analyzeMigrations } from '../packages/prisma-migrate-kit/src/lint'
import { isSqlFragment, placeholder, placeholderOf, sql } from '../packages/prisma-migrate-kit/src/backfill/sql'
import { backfillFileText } from '../packages/prisma-migrate-kit/src/safe/backfill-file'
import {
  classifyChanges,
  docRenameHints,
  docTableRenameHints,
  parseRenameHint,
  parseTableRenameHint,
} from '../packages/prisma-migrate-kit/src/safe/changes'
import {
  applyEdits,
  attributeFields,
  fieldAttributes,
  ignoredFieldLine,
  modelOfTable,
  readEnums,
  readModels,
  renamedFieldLine,
  withAttribute,
  withoutAttribute,
  withOptional,
} from '../packages/prisma-migrate-kit/src/safe/schema-text'
import { contractDrafts, dropDrafts, dropSuffixes, expandDrafts, migrationNames } from '../packages/prisma-migrate-kit/src/safe/steps'
import { prismaTypeOf } from '../packages/prisma-migrate-kit/src/safe/field-of-column'
import { contractSync, conversionFunctions, identifier, syncTrigger } from '../packages/prisma-migrate-kit/src/safe/steps-sql'
import { createTestDatabase } from './helpers/database'
import type { SplitChange } from '../packages/prisma-migrate-kit/src/safe/changes'

// The pure parts of `new --safe`: reading and editing schema.prisma as text, classifying Prisma's diff, the names
// and SQL it writes. The end-to-end proof on a real database is tests/safe-change.test.ts.

const SCHEMA = `datasource db {
  provider = "postgresql"
}

/// A person
model User {
  id          Int      @id @default(autoincrement())
  email       String   @unique // the login
  /// renamed from name
  displayName String   @db.VarChar(80) @default("") @map("display_name")
  posts       Post[]
  bio         String?
  @@map("users")
}

model Post {
  id       Int  @id
  author   User @relation(fields: [authorId], references: [id])
  authorId Int
  @@schema("app")
}
`
const file = { path: '/p/schema.prisma', content: SCHEMA }

describe('schema.prisma as text', () => {
  test('models with their tables and the fields that have a column (relations left out)', () => {
    const models = readModels([file])
    expect(models.map((model) => [model.name, model.table, model.dbSchema])).toEqual([
      ['User', 'users', undefined],
      ['Post', 'Post', 'app'],
    ])
    expect(models[0].fields.map((field) => [field.name, field.column, field.type, field.optional])).toEqual([
      ['id', 'id', 'Int', false],
      ['email', 'email', 'String', false],
      ['displayName', 'display_name', 'String', false],
      ['bio', 'bio', 'String', true],
    ])
    expect(models[0].fields[2].docs).toEqual(['renamed from name'])
    expect(models[1].fields.map((field) => field.name)).toEqual(['id', 'authorId'])
    expect(modelOfTable(models, 'app.Post')?.name).toBe('Post')
    expect(modelOfTable(models, 'users')?.name).toBe('User')
    expect(docRenameHints(models)).toEqual([{ model: 'User', from: 'name', to: 'displayName' }])
  })

  test('a field made optional or required, renamed with its attributes, and edits applied by line', () => {
    const [user] = readModels([file])
    const email = user.fields[1]
    expect(withOptional(email.text, true)).toBe('  email       String?   @unique // the login')
    expect(withOptional(withOptional(email.text, true), false)).toBe(email.text)
    const display = user.fields[2]
    expect(fieldAttributes(display.text.slice(display.text.indexOf('@')))).toEqual([
      { name: '@db.VarChar', text: '@db.VarChar(80)' },
      { name: '@default', text: '@default("")' },
      { name: '@map', text: '@map("display_name")' },
    ])
    expect(renamedFieldLine(display.text, 'name', 'name', { unique: false })).toBe('  name String @db.VarChar(80) @default("")')
    expect(renamedFieldLine(email.text, 'mail', 'e_mail', { unique: true })).toBe('  mail       String @unique @map("e_mail")')
    const edited = applyEdits(
      [file],
      [
        { kind: 'replace', file: file.path, line: email.line, text: withOptional(email.text, true) },
        { kind: 'insert-after', file: file.path, line: email.line, lines: ['  extra Int?'] },
        { kind: 'remove', file: file.path, line: user.fields[3].line },
      ],
    )
    expect(edited[0].content).toMatch(/email {7}String\? {3}@unique \/\/ the login\n {2}extra Int\?\n/)
    expect(edited[0].content).not.toMatch(/bio/)
  })

  test('a rename hint names the model and both fields', () => {
    expect(parseRenameHint('User.name=displayName')).toEqual({ model: 'User', from: 'name', to: 'displayName' })
    expect(() => parseRenameHint('User.name')).toThrow(/expected <Model>\.<old field>=<new field>/)
  })
})

describe("Prisma's diff, classified", () => {
  const INIT = `CREATE TABLE "users" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, "name" TEXT NOT NULL, "bio" TEXT, CONSTRAINT "users_pkey" PRIMARY KEY ("id"));`

  async function history() {
    const [analysis] = await analyzeMigrations([{ name: '20260101000000_init', file: 'init.sql', sql: INIT }])
    return analysis.schema
  }

  const schema = (fields: string) => ({ path: '/p/schema.prisma', content: `model User {\n  id Int @id\n${fields}\n  @@map("users")\n}\n` })

  test('a drop and an add of the same type are a rename only when a hint says so', async () => {
    const script = 'ALTER TABLE "users" DROP COLUMN "name",\nADD COLUMN     "display_name" TEXT NOT NULL;'
    const models = readModels([schema('  email String\n  displayName String @map("display_name")\n  bio String?')])
    const unconfirmed = await classifyChanges(script, await history(), models, [])
    expect(unconfirmed.renameCandidates).toEqual([{ model: 'User', dropped: 'name', added: 'displayName' }])
    const confirmed = await classifyChanges(script, await history(), models, [{ model: 'User', from: 'name', to: 'displayName' }])
    expect(confirmed).toEqual({
      changes: [
        {
          kind: 'rename-column',
          from: { model: 'User', field: 'name', table: 'users', column: 'name' },
          target: { model: 'User', field: 'displayName', table: 'users', column: 'display_name' },
          required: true,
          fromRequired: true,
          fromUnique: false,
          targetLine: '  displayName String @map("display_name")',
        },
      ],
      renameCandidates: [],
    })
    await expect(classifyChanges(script, await history(), models, [{ model: 'User', from: 'name', to: 'nickname' }])).rejects.toThrow(
      /adds no column for User\.nickname/,
    )
  })

  test('a type change that rewrites the table, or has no cast, is split; varchar → text is not; a key field is refused', async () => {
    const bio = readModels([schema('  bio Int?')])
    const retyped = await classifyChanges('ALTER TABLE "users" ALTER COLUMN "bio" SET DATA TYPE INTEGER;', await history(), bio, [])
    expect(retyped.changes).toEqual([
      expect.objectContaining({
        kind: 'change-type',
        from: { model: 'User', field: 'bio', table: 'users', column: 'bio' },
        target: { model: 'User', field: 'bio', table: 'users', column: 'bio_new' },
        fromType: 'text',
        toType: 'int4',
        fromLine: '  bio String?',
        targetLine: '  bio Int?',
      }),
    ])
    const dropAdd = await classifyChanges('ALTER TABLE "users" DROP COLUMN "bio",\nADD COLUMN     "bio" INTEGER;', await history(), bio, [])
    expect(dropAdd.changes).toEqual(retyped.changes)
    expect(dropAdd.renameCandidates).toEqual([])
    const widened = readModels([schema('  bio String? @db.VarChar(200)')])
    const varcharHistory = (
      await analyzeMigrations([{ name: '20260101000000_init', file: 'init.sql', sql: INIT.replace('"bio" TEXT', '"bio" VARCHAR(100)') }])
    )[0].schema
    const safe = await classifyChanges('ALTER TABLE "users" ALTER COLUMN "bio" SET DATA TYPE VARCHAR(200);', varcharHistory, widened, [])
    expect(safe.changes).toEqual([])
    const unique = readModels([schema('  email Int @unique')])
    await expect(
      classifyChanges('ALTER TABLE "users" ALTER COLUMN "email" SET DATA TYPE INTEGER;', await history(), unique, []),
    ).rejects.toThrow(
      /User\.email changes type \(text → int4\), and new --safe cannot split it: it is part of a key, an index or a relation/,
    )
  })

  test('a rename that changes the type too is refused', async () => {
    const script = 'ALTER TABLE "users" DROP COLUMN "name",\nADD COLUMN     "display_name" INTEGER NOT NULL;'
    const models = readModels([schema('  displayName Int @map("display_name")')])
    await expect(classifyChanges(script, await history(), models, [{ model: 'User', from: 'name', to: 'displayName' }])).rejects.toThrow(
      /changes the type too \(text → int4\)/,
    )
  })

  test('new required fields without a default, and fields made required; a constant default or a nullable field is not split', async () => {
    const script = [
      'ALTER TABLE "users" ADD COLUMN "score" INTEGER NOT NULL,',
      'ADD COLUMN "level" INTEGER NOT NULL DEFAULT 1,',
      'ADD COLUMN "note" TEXT,',
      'ALTER COLUMN "bio" SET NOT NULL,',
      `ALTER COLUMN "bio" SET DEFAULT '';`,
    ].join('\n')
    const models = readModels([schema('  score Int\n  level Int @default(1)\n  note String?\n  bio String @default("")')])
    const { changes } = await classifyChanges(script, await history(), models, [])
    expect(changes).toEqual([
      { kind: 'add-required', target: { model: 'User', field: 'score', table: 'users', column: 'score' }, hasDefault: false },
      { kind: 'make-required', target: { model: 'User', field: 'bio', table: 'users', column: 'bio' }, hasDefault: true },
    ])
  })

  test('a dropped field keeps its column as an optional field Prisma Client ignores; a type it cannot write is refused', async () => {
    const models = readModels([schema('  email String\n  bio String?')])
    const { changes } = await classifyChanges('ALTER TABLE "users" DROP COLUMN "name";', await history(), models, [])
    expect(changes).toEqual([
      {
        kind: 'drop-column',
        target: { model: 'User', field: 'name', table: 'users', column: 'name' },
        fieldLine: '  name String? @ignore',
      },
    ])
    const [odd] = await analyzeMigrations([
      { name: '20260101000000_init', file: 'init.sql', sql: `${INIT}\nALTER TABLE "users" ADD COLUMN "spot" point;` },
    ])
    await expect(classifyChanges('ALTER TABLE "users" DROP COLUMN "spot";', odd.schema, models, [])).rejects.toThrow(
      /cannot write a Prisma field for that type/,
    )
  })

  test('a unique index over existing columns is a split change, found by its @unique or @@unique; over a new column it is not', async () => {
    const models = readModels([
      schema('  email String @unique(map: "users_email_key") // login\n  name String\n  bio String?\n  @@unique([name, bio(sort: Desc)])'),
    ])
    const script = [
      'CREATE UNIQUE INDEX "users_email_key" ON "users"("email");',
      'CREATE UNIQUE INDEX "users_name_bio_key" ON "users"("name", "bio" DESC);',
    ].join('\n')
    const { changes } = await classifyChanges(script, await history(), models, [])
    expect(changes).toEqual([
      {
        kind: 'add-unique',
        target: { model: 'User', field: 'email', table: 'users', column: 'email' },
        columns: ['email'],
        index: 'users_email_key',
        attribute: { on: 'field', text: '@unique(map: "users_email_key")' },
      },
      {
        kind: 'add-unique',
        target: { model: 'User', field: 'name', table: 'users', column: 'name' },
        columns: ['name', 'bio'],
        index: 'users_name_bio_key',
        attribute: { on: 'model', text: '@@unique([name, bio(sort: Desc)])' },
      },
    ])
    const fresh = readModels([schema('  nick String? @unique')])
    const added = await classifyChanges(
      'ALTER TABLE "users" ADD COLUMN "nick" TEXT;\nCREATE UNIQUE INDEX "users_nick_key" ON "users"("nick");',
      await history(),
      fresh,
      [],
    )
    expect(added.changes).toEqual([])
    await expect(
      classifyChanges('CREATE UNIQUE INDEX "odd" ON "users"("name");', await history(), readModels([schema('  name String')]), []),
    ).rejects.toThrow(/cannot find the @unique or @@unique/)
  })

  test("a unique index's contract: CONCURRENTLY alone under Prisma's name; the backfill finds each duplicate after the first", async () => {
    const change = {
      kind: 'add-unique' as const,
      target: { model: 'User', field: 'email', table: 'app.users', column: 'email' },
      columns: ['email', 'org'],
      index: 'users_email_org_key',
      attribute: { on: 'model' as const, text: '@@unique([email, org])' },
    }
    const drafts = await contractDrafts(
      'u',
      [change],
      '-- CreateIndex\nCREATE UNIQUE INDEX "users_email_org_key" ON "app"."users"("email", "org");\n',
    )
    expect(drafts.map((draft) => draft.suffix)).toEqual(['u_unique'])
    expect(drafts[0].sql).toMatch(/\nCREATE UNIQUE INDEX CONCURRENTLY "users_email_org_key" ON "app"."users"\("email", "org"\);\n$/)
    expect(drafts[0].sql).not.toMatch(/lock_timeout/)
    const text = backfillFileText({ name: 'u', plan: 'u', change, before: 'u_unique', keyColumns: ['tenant', 'id'] })
    expect(text).toContain(
      'where: sql`EXISTS (SELECT 1 FROM "app"."users" AS "kept" WHERE "kept"."email" = "users"."email" AND "kept"."org" = "users"."org" AND ("kept"."tenant", "kept"."id") < ("users"."tenant", "users"."id"))`',
    )
    expect(text).toContain('verify: sql`SELECT "tenant", "id" FROM "app"."users" WHERE EXISTS (')
    expect(text).toContain("snapshot: ['email', 'org'],")
    expect(text).toMatch(/update: placeholder\(/)
    expect(text).not.toMatch(/after:/)
  })

  test('a foreign key over existing columns is a split change with both relation fields; two unnamed relations are refused', async () => {
    const [posts] = await analyzeMigrations([
      {
        name: '1',
        file: '1.sql',
        sql: `${INIT}\nCREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "authorId" INTEGER NOT NULL, "editorId" INTEGER);`,
      },
    ])
    const files = (extra: string) => [
      {
        path: '/p/schema.prisma',
        content: [
          'model User {\n  id Int @id\n  posts Post[] @relation("written")\n  email String\n  @@map("users")\n}',
          `model Post {\n  id Int @id\n  authorId Int\n  author User @relation("written", fields: [authorId], references: [id], onDelete: Cascade)\n${extra}}`,
        ].join('\n'),
      },
    ]
    const script =
      'ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;'
    const { changes } = await classifyChanges(script, posts.schema, readModels(files('')), [])
    expect(changes).toEqual([
      {
        kind: 'add-foreign-key',
        target: { model: 'Post', field: 'authorId', table: 'Post', column: 'authorId' },
        columns: ['authorId'],
        references: { table: 'users', columns: ['id'] },
        constraint: 'Post_authorId_fkey',
        relationLines: [
          { model: 'Post', text: '  author User @relation("written", fields: [authorId], references: [id], onDelete: Cascade)' },
          { model: 'User', text: '  posts Post[] @relation("written")' },
        ],
      },
    ])
    const unnamed = [{ path: '/p/schema.prisma', content: files('')[0].content.replace(/"written", |\("written"\)/g, '') }]
    const twice = [{ ...unnamed[0], content: unnamed[0].content.replace('  email String', '  email String\n  edited Post[]') }]
    await expect(classifyChanges(script, posts.schema, readModels(twice), [])).rejects.toThrow(
      /cannot tell which relation fields ask for it/,
    )
  })

  test('a dropped table and a created one with the same columns are a rename only when a hint says so', async () => {
    const script = [
      'DROP TABLE "users";',
      'CREATE TABLE "accounts" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, "name" TEXT NOT NULL, "bio" TEXT, CONSTRAINT "accounts_pkey" PRIMARY KEY ("id"));',
    ].join('\n')
    const models = readModels([
      {
        path: '/p/schema.prisma',
        content:
          '/// renamed from users\nmodel Account {\n  id Int @id\n  email String\n  name String\n  bio String?\n  @@map("accounts")\n}\n',
      },
    ])
    await expect(classifyChanges(script, await history(), models, [])).rejects.toMatchObject({
      message: expect.stringMatching(/drops the table users and creates accounts with the same columns/) as string,
      hint: expect.stringContaining('--rename-table users=Account') as string,
    })
    const hints = docTableRenameHints(models)
    expect(hints).toEqual([{ from: 'users', to: 'Account' }])
    const { changes } = await classifyChanges(script, await history(), models, [], [], new Map(), hints)
    expect(changes).toEqual([
      { kind: 'rename-table', target: { model: 'Account', field: 'id', table: 'accounts', column: 'id' }, from: { table: 'users' } },
    ])
    await expect(
      classifyChanges(script.replace('"bio" TEXT', '"bio" INTEGER'), await history(), models, [], [], new Map(), hints),
    ).rejects.toThrow(/changes the columns too/)
    expect(parseTableRenameHint('User=Account')).toEqual({ from: 'User', to: 'Account' })
    expect(() => parseTableRenameHint('User.x=Account')).toThrow(/expected <old table>=<new model>/)
  })

  test('CREATE INDEX on an existing table moves to a CONCURRENTLY migration of its own; a unique one over old data is refused', async () => {
    const script =
      '-- AlterTable\nALTER TABLE "users" ADD COLUMN "nick" TEXT;\n\n-- CreateIndex\nCREATE INDEX "users_email_idx" ON "users"("email");\n'
    const drafts = await expandDrafts('p', [], script, await history())
    expect(drafts.map((draft) => draft.suffix)).toEqual(['p_expand', 'p_index'])
    expect(drafts[0].sql).not.toMatch(/CREATE INDEX|CreateIndex/)
    expect(drafts[1].sql).toMatch(/^CREATE INDEX CONCURRENTLY "users_email_idx" ON "users"\("email"\);$/m)
    expect(drafts[1].sql).not.toMatch(/SET lock_timeout/)
    await expect(expandDrafts('p', [], 'CREATE UNIQUE INDEX "users_name_key" ON "users"("name");\n', await history())).rejects.toThrow(
      /unique index over existing data/,
    )
  })
})

describe('what new --safe writes', () => {
  test('a column type as `prisma db pull` writes the field: the scalar, and the native type unless it is the default', () => {
    const type = (sql: string) => {
      const parsed = /^(\w+)(?:\((\d+)(?:,\s*(\d+))?\))?$/.exec(sql)!
      return { name: parsed[1], modifiers: [parsed[2], parsed[3]].filter(Boolean).map(Number), array: false }
    }
    const enums = new Map([['Role', 'Role']])
    expect(prismaTypeOf(type('text'), enums)).toEqual({ type: 'String' })
    expect(prismaTypeOf(type('varchar(80)'), enums)).toEqual({ type: 'String', native: '@db.VarChar(80)' })
    expect(prismaTypeOf(type('timestamp(3)'), enums)).toEqual({ type: 'DateTime' })
    expect(prismaTypeOf(type('timestamptz(6)'), enums)).toEqual({ type: 'DateTime', native: '@db.Timestamptz(6)' })
    expect(prismaTypeOf(type('numeric(65,30)'), enums)).toEqual({ type: 'Decimal' })
    expect(prismaTypeOf(type('numeric(10,2)'), enums)).toEqual({ type: 'Decimal', native: '@db.Decimal(10, 2)' })
    expect(prismaTypeOf(type('int8'), enums)).toEqual({ type: 'BigInt' })
    expect(prismaTypeOf(type('Role'), enums)).toEqual({ type: 'Role' })
    expect(prismaTypeOf({ ...type('text'), array: true }, enums)).toBeUndefined()
    expect(prismaTypeOf(type('point'), enums)).toBeUndefined()
    expect(readEnums([{ path: '/p/e.prisma', content: 'enum Role {\n  ADMIN\n  @@map("role")\n  @@schema("app")\n}\n' }])).toEqual(
      new Map([['app.role', 'Role']]),
    )
  })

  test('migration names follow the last one, one second apart, even when the clock is behind it', () => {
    expect(migrationNames('20300101000000_future', ['a', 'b'], new Date('2026-12-07T10:00:00Z'))).toEqual([
      '20300101000001_a',
      '20300101000002_b',
    ])
    expect(migrationNames(undefined, ['a'], new Date('2026-12-07T10:00:00.900Z'))).toEqual(['20261207100000_a'])
  })

  test('long names are cut with a hash; the sync trigger copies whichever side a release wrote', () => {
    const long = identifier(`${'t'.repeat(40)}_${'c'.repeat(40)}_sync`)
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(63)
    expect(long).not.toBe(identifier(`${'t'.repeat(40)}_${'c'.repeat(41)}_sync`))
    const trigger = syncTrigger({
      kind: 'rename-column',
      from: { model: 'U', field: 'a', table: 'app.U', column: 'a' },
      target: { model: 'U', field: 'b', table: 'app.U', column: 'b' },
      required: true,
      fromRequired: true,
      fromUnique: false,
    })
    expect(trigger.forward).toMatch(/CREATE OR REPLACE FUNCTION "app"\."U_b_sync"\(\)/)
    expect(trigger.forward).toMatch(/BEFORE INSERT OR UPDATE ON "app"\."U" FOR EACH ROW/)
    expect(trigger.inverse).toBe('DROP TRIGGER IF EXISTS "U_b_sync" ON "app"."U";\nDROP FUNCTION IF EXISTS "app"."U_b_sync"();')
  })

  test("a foreign key's contract: NOT VALID with the CHECKs, then VALIDATE; its rollback makes it NOT VALID again", async () => {
    const change: SplitChange = {
      kind: 'add-foreign-key',
      target: { model: 'Post', field: 'authorId', table: 'app.Post', column: 'authorId' },
      columns: ['authorId', 'tenant'],
      references: { table: 'app.User', columns: ['id', 'tenant'] },
      constraint: 'Post_authorId_tenant_fkey',
      relationLines: [],
    }
    const statement =
      'ALTER TABLE "app"."Post" ADD CONSTRAINT "Post_authorId_tenant_fkey" FOREIGN KEY ("authorId", "tenant") REFERENCES "app"."User"("id", "tenant") ON DELETE RESTRICT ON UPDATE CASCADE'
    const drafts = await contractDrafts('k', [change], `-- AddForeignKey\n${statement};\n`)
    expect(drafts.map((draft) => draft.suffix)).toEqual(['k_contract_check', 'k_contract'])
    expect(drafts[0].sql).toContain(`${statement} NOT VALID;`)
    expect(drafts[0].sql).not.toMatch(/AddForeignKey/)
    expect(drafts[1].sql).toMatch(/\nALTER TABLE "app"."Post" VALIDATE CONSTRAINT "Post_authorId_tenant_fkey";\n$/)
    expect(drafts[1].rollback.first).toBe(
      `ALTER TABLE "app"."Post" DROP CONSTRAINT IF EXISTS "Post_authorId_tenant_fkey";\n${statement} NOT VALID;`,
    )
    const text = backfillFileText({ name: 'k', plan: 'k', change, before: 'k_contract_check', keyColumns: ['id'] })
    expect(text).toContain(
      'where: sql`"Post"."authorId" IS NOT NULL AND "Post"."tenant" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "app"."User" AS "parent" WHERE "parent"."id" = "Post"."authorId" AND "parent"."tenant" = "Post"."tenant")`',
    )
    expect(text).toMatch(/update: placeholder\(/)
  })

  test('attributes added before a comment, removed with their arguments; the fields of @@unique and @@id lines', () => {
    expect(withAttribute('  email String // login', '@unique')).toBe('  email String @unique // login')
    expect(withAttribute('  email String', '@unique(map: "k")')).toBe('  email String @unique(map: "k")')
    expect(withoutAttribute('  email String @unique(map: "k") @db.Text // login', '@unique(map: "k")')).toBe(
      '  email String @db.Text // login',
    )
    expect(attributeFields('@@unique([a, b(sort: Desc)], map: "x")', '@@unique')).toEqual(['a', 'b'])
    expect(attributeFields('@@id(fields: [tenant, id])', '@@id')).toEqual(['tenant', 'id'])
    expect(attributeFields('@@index([a])', '@@unique')).toBeUndefined()
  })

  test("an old field the contract's release must not read: optional and @ignore, its comment replaced, said once", () => {
    const comment = '// kept until the drop of r'
    expect(ignoredFieldLine('  name String @unique // kept until the contract of r', comment)).toBe(
      `  name String? @unique @ignore ${comment}`,
    )
    expect(ignoredFieldLine('  note String? @default("a // b") @ignore', comment)).toBe(
      `  note String? @default("a // b") @ignore ${comment}`,
    )
  })

  test("a rename's contract keeps the old column and its trigger; the drop step removes them and its rollback refills", async () => {
    const rename: SplitChange = {
      kind: 'rename-column',
      from: { model: 'User', field: 'name', table: 'User', column: 'name' },
      target: { model: 'User', field: 'displayName', table: 'User', column: 'displayName' },
      required: true,
      fromRequired: true,
      fromUnique: false,
    }
    const required: SplitChange = {
      kind: 'add-required',
      target: { model: 'User', field: 'score', table: 'User', column: 'score' },
      hasDefault: false,
    }
    const contract = await contractDrafts(
      'r',
      [rename, required],
      'ALTER TABLE "User" ALTER COLUMN "displayName" SET NOT NULL,\nALTER COLUMN "name" DROP NOT NULL,\nALTER COLUMN "score" SET NOT NULL;\n',
    )
    expect(contract.map((draft) => draft.suffix)).toEqual(['r_contract_check', 'r_contract'])
    expect(contract[0].sql).toMatch(/"User_displayName_not_null" CHECK \("displayName" IS NOT NULL\) NOT VALID;\n.*"User_score_not_null"/)
    expect(contract[1].sql).not.toMatch(/TRIGGER|DROP COLUMN/)
    expect(contract[1].role).toMatch(/User\.name stays \(nullable, ignored by Prisma Client\) until the drop step/)
    expect(dropSuffixes('r', [rename, required])).toEqual(['r_drop'])
    expect(dropSuffixes('r', [required])).toEqual([])
    expect(await dropDrafts('r', [required], 'SELECT 1;')).toEqual([])

    const [drop] = await dropDrafts('r', [rename, required], 'ALTER TABLE "User" DROP COLUMN "name";\n')
    expect(drop.suffix).toBe('r_drop')
    expect(drop.sql).toMatch(
      /DROP TRIGGER IF EXISTS "User_displayName_sync" ON "User";\nDROP FUNCTION IF EXISTS "User_displayName_sync"\(\);/,
    )
    expect(drop.sql).toMatch(/-- migrate-kit-ignore ban-drop-column: renamed away by r; [^\n]*\nALTER TABLE "User" DROP COLUMN "name";/)
    expect(drop.rollback.last).toMatch(/^UPDATE "User" SET "name" = "displayName" WHERE "name" IS NULL;\n-- Keeps/)
    expect(drop.rollback.last).not.toMatch(/SET NOT NULL/)
    // Lint finds no error in either step, the acknowledgements included.
    const analyses = await analyzeMigrations(
      [
        {
          name: '1_init',
          file: '1.sql',
          sql: 'CREATE TABLE "User" (id int PRIMARY KEY, name text NOT NULL, "displayName" text, score int);',
        },
        { name: '2_check', file: '2.sql', sql: contract[0].sql },
        { name: '3_contract', file: '3.sql', sql: contract[1].sql },
        { name: '4_drop', file: '4.sql', sql: drop.sql },
      ],
      {},
    )
    expect(analyses.flatMap((analysis) => analysis.findings.filter((finding) => finding.level === 'error'))).toEqual([])
  })

  test('a backfill that cannot be derived holds a placeholder, which is a fragment that says what to write', () => {
    const text = backfillFileText({
      name: 'add_score',
      plan: 'add_score',
      change: { kind: 'add-required', target: { model: 'User', field: 'score', table: 'users', column: 'score' }, hasDefault: false },
      after: '20260101000001_add_score_expand',
      before: 'add_score_contract_check',
      keyColumns: ['id'],
    })
    expect(text).toMatch(/^import \{ defineBackfill, placeholder, sql \} from 'prisma-migrate-kit'$/m)
    expect(text).toMatch(/update: placeholder\('the value of User\.score/)
    expect(text).toMatch(/verify: sql`SELECT "id" FROM "users" WHERE "score" IS NULL`/)
    expect(text).toMatch(/before: 'add_score_contract_check'/)

    const hole = placeholder('the value of User.score')
    expect(isSqlFragment(hole)).toBe(true)
    expect(placeholderOf(hole)).toBe('the value of User.score')
    expect(placeholderOf(sql`"score" = 0`)).toBeUndefined()
    expect(() => placeholder('  ')).toThrow(/say what to write/)
  })
})

describe('the sync trigger of a type change, on a real table', () => {
  const change: Extract<SplitChange, { kind: 'change-type' }> = {
    kind: 'change-type',
    from: { model: 'T', field: 'visits', table: 'T', column: 'visits' },
    target: { model: 'T', field: 'visits', table: 'T', column: 'visits_new' },
    required: true,
    fromRequired: true,
    fromType: 'int4',
    toType: 'int8',
    expandField: 'visits_new',
    ignoredField: 'visits_old',
    fromLine: '  visits Int @default(0)',
    targetLine: '  visits BigInt @default(0)',
  }

  test('each step trusts the column without a default on INSERT, converts the column an UPDATE changed, and NULL for no conversion', async () => {
    const db = await createTestDatabase('safe_sync')
    try {
      const row = async (id: number) =>
        (
          await db.query<{ a: number | null; b: string | null }>('SELECT visits AS a, visits_new::text AS b FROM "T" WHERE id = $1', [id])
        )[0]
      await db.query('CREATE TABLE "T" (id int PRIMARY KEY, visits int4 NOT NULL DEFAULT 0)')
      await db.query('ALTER TABLE "T" ADD COLUMN visits_new int8')
      await db.query(conversionFunctions(change).forward)
      await db.query(syncTrigger(change).forward)
      // The expand: the old release names visits or leaves it to its default; the new shape names visits_new alone.
      await db.query('INSERT INTO "T" (id, visits) VALUES (1, 7)')
      await db.query('INSERT INTO "T" (id) VALUES (2)')
      await db.query('INSERT INTO "T" (id, visits_new) VALUES (3, 9)')
      expect([await row(1), await row(2), await row(3)]).toEqual([
        { a: 7, b: '7' },
        { a: 0, b: '0' },
        { a: 9, b: '9' },
      ])
      await db.query('UPDATE "T" SET visits = 70 WHERE id = 1')
      await db.query('UPDATE "T" SET visits_new = 90 WHERE id = 3')
      expect([await row(1), await row(3)]).toEqual([
        { a: 70, b: '70' },
        { a: 90, b: '90' },
      ])
      // A value the old type cannot hold: no conversion back, and the old column is NOT NULL yet.
      await expect(db.query('INSERT INTO "T" (id, visits_new) VALUES (4, 5000000000)')).rejects.toThrow(/null value in column "visits"/)

      // The contract: the old column loses its default and NOT NULL, the new one gets the default.
      await db.query(
        'ALTER TABLE "T" ALTER COLUMN visits DROP DEFAULT, ALTER COLUMN visits DROP NOT NULL, ALTER COLUMN visits_new SET DEFAULT 0',
      )
      await db.query(contractSync(change).forward)
      await db.query('INSERT INTO "T" (id, visits) VALUES (5, 11)')
      await db.query('INSERT INTO "T" (id, visits_new) VALUES (6, 5000000000)')
      await db.query('INSERT INTO "T" (id) VALUES (7)')
      expect([await row(5), await row(6), await row(7)]).toEqual([
        { a: 11, b: '11' },
        { a: null, b: '5000000000' },
        { a: 0, b: '0' },
      ])
      // Its rollback puts the expand's function back.
      await db.query(contractSync(change).inverse)
      await db.query('INSERT INTO "T" (id, visits_new) VALUES (8, 12)')
      expect(await row(8)).toEqual({ a: 12, b: '12' })
    } finally {
      await db.drop()
    }
  })
})

describe('the sync trigger of a rename whose field has a @default, on a real table', () => {
  const change: Extract<SplitChange, { kind: 'rename-column' }> = {
    kind: 'rename-column',
    from: { model: 'T', field: 'name', table: 'T', column: 'name' },
    target: { model: 'T', field: 'label', table: 'T', column: 'label' },
    required: true,
    fromRequired: true,
    fromUnique: false,
    targetLine: "  label String @default('none')",
  }

  test("a value the writer named wins over the other column's default, in the expand and in the contract", async () => {
    const db = await createTestDatabase('safe_sync_rename')
    try {
      const row = async (id: number) =>
        (await db.query<{ a: string | null; b: string | null }>('SELECT name AS a, label AS b FROM "T" WHERE id = $1', [id]))[0]
      // The expand: the old column keeps its default, the new one has none yet.
      await db.query(`CREATE TABLE "T" (id int PRIMARY KEY, name text NOT NULL DEFAULT 'none')`)
      await db.query('ALTER TABLE "T" ADD COLUMN label text')
      await db.query(syncTrigger(change).forward)
      await db.query(`INSERT INTO "T" (id, name) VALUES (1, 'old')`)
      await db.query(`INSERT INTO "T" (id, label) VALUES (2, 'new')`)
      await db.query('INSERT INTO "T" (id) VALUES (3)')
      expect([await row(1), await row(2), await row(3)]).toEqual([
        { a: 'old', b: 'old' },
        { a: 'new', b: 'new' },
        { a: 'none', b: 'none' },
      ])
      // The contract: the default moves to the new column.
      await db.query(
        `ALTER TABLE "T" ALTER COLUMN name DROP DEFAULT, ALTER COLUMN name DROP NOT NULL, ALTER COLUMN label SET DEFAULT 'none'`,
      )
      await db.query(contractSync(change).forward)
      await db.query(`INSERT INTO "T" (id, name) VALUES (4, 'old')`)
      await db.query(`INSERT INTO "T" (id, label) VALUES (5, 'new')`)
      await db.query('INSERT INTO "T" (id) VALUES (6)')
      expect([await row(4), await row(5), await row(6)]).toEqual([
        { a: 'old', b: 'old' },
        { a: 'new', b: 'new' },
        { a: 'none', b: 'none' },
      ])
    } finally {
      await db.drop()
    }
  })
})
