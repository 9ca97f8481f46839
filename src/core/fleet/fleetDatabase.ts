/**
 * The fleet's connection to the PostgreSQL ledger: its own client (a member's LISTEN needs a session of
 * its own, and a status or control command needs no ledger), with the ledger's schema migrated first.
 * This folder cannot depend on the vscode API.
 */
import type { Client } from 'pg';
import type { PostgresLedgerPlace } from '../ledger/postgresLedger';
import { migratePostgresLedger } from '../ledger/postgresSchema';
import { connectClient, describeUrl } from '../sources/postgres/connection';

/** An open connection to one ledger's fleet tables. */
export interface FleetDatabase {
  client: Client;
  /** The schema of backfill's tables, safe to write into SQL (postgresSchema.ts checks it). */
  schema: string;
  /** The ledger's name: every fleet row is scoped by it. */
  ledger: string;
  /** Where the ledger is, for messages: never the URL, which may hold a password. */
  where: string;
}

/** The channel members LISTEN on; the payload says which ledger's controls changed (`schema.ledger`). */
export const CONTROL_CHANNEL = 'backfill_control';

/** The NOTIFY payload of a ledger. */
export function controlPayload(db: Pick<FleetDatabase, 'schema' | 'ledger'>): string {
  return `${db.schema}.${db.ledger}`;
}

/** Connects to the ledger's database, creating or migrating its schema when needed. */
export async function openFleetDatabase(place: PostgresLedgerPlace): Promise<FleetDatabase> {
  const schema = place.schema ?? 'backfill';
  const where = `PostgreSQL ${describeUrl(place.url)} (schema ${schema}, ledger ${place.name})`;
  const client = await connectClient(place.url);
  try {
    await migratePostgresLedger(client, schema, where);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return { client, schema, ledger: place.name, where };
}
