import type { Effect, Phase } from './effect-model'

/**
 * The migration's phase from its effects, with the reason a person needs (for breaking: what to split).
 *
 * Loosening effects decide nothing when anything else is there: they break no running code and are needed by no new
 * code, so they go with an expand migration as well as with a contract one. An addition and a tightening together
 * are breaking, because the addition must ship before the release that uses it and the tightening only after it.
 */
export function phaseOf(effects: Effect[]): { phase: Phase; reason: string } {
  const breaking = effects.find((effect) => effect.phase === 'breaking')
  const expand = effects.find((effect) => effect.phase === 'expand')
  const contract = effects.find((effect) => effect.phase === 'contract')
  const loosen = effects.find((effect) => effect.phase === 'loosen')
  if (breaking) {
    return {
      phase: 'breaking',
      reason:
        `${breaking.description} (line ${breaking.line}), which breaks code that is already running: ` +
        `split it into expand and contract steps`,
    }
  }
  if (expand && contract) {
    return {
      phase: 'breaking',
      reason:
        `it both ${expand.description} (line ${expand.line}) and ${contract.description} (line ${contract.line}): ` +
        `split it into an expand migration and a later contract migration, with the backfill between them`,
    }
  }
  if (expand) return { phase: 'expand', reason: `only backward-compatible additions (${expand.description})` }
  if (contract) {
    return { phase: 'contract', reason: `removes or tightens what older code may use (${contract.description})` }
  }
  if (loosen) return { phase: 'expand', reason: `only loosens what running code may write (${loosen.description})` }
  return { phase: 'neutral', reason: 'no schema change' }
}
