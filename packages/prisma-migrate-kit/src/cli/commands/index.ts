import type { Command } from 'commander'
import type { CliContext } from '../context'
import type { CommandHost } from '../command'
import { registerBackfill } from './backfill'
import { registerCheck } from './check'
import { registerDeploy } from './deploy'
import { registerInit } from './init'
import { registerPrisma } from './prisma'
import { registerStatus } from './status'
import { registerLint } from './lint'
import { registerNew } from './new'
import { registerPlan } from './plan'
import { registerRollback } from './rollback'
import { registerRollbacks } from './rollbacks'
import { registerVerifyRollbacks } from './verify-rollbacks'

/** Every command, in the order `--help` lists them. */
export function registerCommands(program: Command, context: CliContext, setExitCode: (code: number) => void): void {
  const host: CommandHost = { context, setExitCode }
  registerInit(program, host)
  registerStatus(program, host)
  registerPlan(program, host)
  registerDeploy(program, host)
  registerCheck(program, host)
  registerLint(program, host)
  registerNew(program, host)
  registerRollback(program, host)
  registerRollbacks(program, host)
  registerVerifyRollbacks(program, host)
  registerBackfill(program, host)
  registerPrisma(program, host)
}
