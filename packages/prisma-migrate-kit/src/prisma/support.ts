import { readFileSync } from 'node:fs'
import path from 'node:path'
import { UsageError } from '../errors'

/**
 * The Prisma releases migrate-kit works with: one table for the peer range of package.json, the check before any
 * Prisma command runs, and the messages. Tested (an adopter project per release in the test suite, and by hand):
 * each runs deploy, new, migrate dev, rollbacks generate, verify-rollbacks and status through the offline engine.
 */
export const PRISMA_SUPPORT = {
  /** package.json's peerDependencies.prisma says the same. */
  range: '>=7.4.0 <8',
  minimum: [7, 4, 0] as const,
  belowMajor: 8,
  tested: ['7.4.0', '7.6.0', '7.8.0', '7.9.1', '7.10.0', '7.10.1'],
  recommended: '7.10.1',
}

/** `7.9.1` → [7, 9, 1]; undefined for what is not a release version. */
function versionParts(version: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version.trim())
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined
}

export function isSupportedPrisma(version: string): boolean {
  const parts = versionParts(version)
  if (!parts) return false
  const [major, minor, patch] = parts
  const [minMajor, minMinor, minPatch] = PRISMA_SUPPORT.minimum
  const atLeast = major !== minMajor ? major > minMajor : minor !== minMinor ? minor > minMinor : patch >= minPatch
  return atLeast && major < PRISMA_SUPPORT.belowMajor
}

/** The version of the prisma package in `prismaDir`; refuses (exit 2) one outside the supported range. */
export function assertSupportedPrisma(prismaDir: string, toolVersion: string): string {
  const version = installedVersion(prismaDir) ?? 'unknown'
  if (isSupportedPrisma(version)) return version
  throw new UsageError(
    `prisma ${version} (${prismaDir}) is not supported by prisma-migrate-kit ${toolVersion}: it works with prisma ${PRISMA_SUPPORT.range} ` +
      `(tested: ${PRISMA_SUPPORT.tested.join(', ')})`,
    { hint: `Install a supported release: npm install --save-dev --save-exact prisma@${PRISMA_SUPPORT.recommended}` },
  )
}

/** The version in a package folder's package.json; undefined when there is none to read. */
export function installedVersion(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version
  } catch {
    return undefined
  }
}
