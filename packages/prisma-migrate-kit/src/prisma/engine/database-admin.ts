import type { Client } from 'pg'
import { withConnection } from '../../db/connect'
import { quoteIdent } from '../../db/quote'
import { parseDatabaseUrl, withDatabase } from '../../db/url'
import { connectionFailure, PrismaKnownError } from './errors'

/**
 * Database-level work the engine does without the WebAssembly module (which needs a connection to an existing
 * database before it starts): the `cli can-connect-to-database | create-database | drop-database` commands and the
 * createDatabase RPC method.
 */

const APPLICATION_NAME = 'migrate-kit-schema-engine'

/** Runs fn on a connection to url; a failure to connect becomes the error Prisma's native engine reports. */
async function onDatabase<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const target = parseDatabaseUrl(url)
  try {
    return await withConnection(url, fn, { applicationName: APPLICATION_NAME })
  } catch (error) {
    // withConnection wraps driver errors in our ConnectionError; the driver's code is on its cause.
    const driverError = (error as { cause?: unknown }).cause ?? error
    throw connectionFailure(driverError, target) ?? error
  }
}

/** Like the native engine: the `postgres` maintenance database, or `template1` on servers without one. */
async function onMaintenanceDatabase<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await onDatabase(withDatabase(url, 'postgres'), fn)
  } catch (error) {
    if (!(error instanceof PrismaKnownError && error.code === 'P1003')) throw error
    return onDatabase(withDatabase(url, 'template1'), fn)
  }
}

export async function canConnectToDatabase(url: string): Promise<void> {
  await onDatabase(url, () => Promise.resolve())
}

/** Runs one statement about the database the URL names (CREATE, DROP) on the server's maintenance database. */
async function onServerAbout(url: string, statement: (quotedName: string) => string): Promise<string> {
  const target = parseDatabaseUrl(url)
  await onMaintenanceDatabase(url, async (client) => {
    try {
      await client.query(statement(quoteIdent(target.database)))
    } catch (error) {
      throw connectionFailure(error, target) ?? error
    }
  })
  return target.database
}

/** Creates the database the URL names; returns its name. */
export function createDatabase(url: string): Promise<string> {
  return onServerAbout(url, (name) => `CREATE DATABASE ${name}`)
}

export async function dropDatabase(url: string): Promise<void> {
  await onServerAbout(url, (name) => `DROP DATABASE ${name}`)
}
