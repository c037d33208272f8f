/**
 * The migration linter: findings (which statements lock tables or break running code, with the safe recipe),
 * the expand/contract phase of each migration, and the structured effects the deploy gate reads.
 */
export { analyzeMigration, analyzeMigrations } from './engine'
export type { AnalyzeOptions, Finding, IgnoredFinding, MigrationAnalysis, MigrationSource } from './engine'
export type { Effect, EffectKind, Phase } from './effects'
export { SchemaHistory } from './schema'
export { DEFAULT_SETTINGS } from './rule'
export type { LintSettings, Level, Rule } from './rule'
export { RULES } from './rules'
export { META_RULES } from './meta-rules'
export { loadSqlParser } from './parser'
export { lintProject, resolveTargets } from './project'
export type { LintReport } from './project'
export { reportJson, reportLines } from './report'
