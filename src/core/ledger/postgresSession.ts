/**
 * The connection of a PostgreSQL ledger, kept across database restarts. A restart ends every session, so
 * the statement after one opens a new connection rather than failing once; and a transaction's statements
 * all go to the session that began it, never to a new one that would commit them on their own.
 *
 * This folder cannot depend on the vscode API.
 */
import type { Client, QueryResult } from 'pg';
import { connectClient } from '../sources/postgres/connection';
import type { Row } from './rows';

export class PostgresSession {
  /** The connection ended under this ledger (the database restarted): the next statement reconnects. */
  private ended = false;
  private reconnecting: Promise<void> | undefined;
  /** The session of the transaction under way, if one is. */
  private pinned: Client | undefined;

  constructor(
    private client: Client,
    private readonly place: { readonly url: string },
  ) {
    this.watch(client);
  }

  /** Runs one statement: inside {@link transaction}, part of it. */
  async statement(sql: string, parameters: unknown[]): Promise<QueryResult> {
    return (await this.current()).query(sql, parameters);
  }

  /** The rows one statement returns. */
  async rows(sql: string, parameters: unknown[]): Promise<Row[]> {
    return (await this.statement(sql, parameters)).rows as Row[];
  }

  /**
   * Runs `work` in one transaction: all of its writes are committed, or none. The connection is the
   * ledger's only one, so a read made through the ledger meanwhile sees the transaction's writes.
   */
  async transaction(work: () => Promise<void>): Promise<void> {
    const client = await this.current();
    // Every statement of the transaction goes to its session: were it to end, a statement run on a new
    // connection would commit on its own while the rest rolls back.
    this.pinned = client;
    try {
      await client.query('BEGIN');
      try {
        await work();
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    } finally {
      this.pinned = undefined;
    }
  }

  /**
   * Replaces the connection with a new one, after the database went away (a restart ends every session).
   * The schema is there already, and chain ids stay valid: only the session is new.
   */
  async reconnect(): Promise<void> {
    // Callers that find the connection gone at once (a commit, a read) share one new connection.
    this.reconnecting ??= connectClient(this.place.url)
      .then((fresh) => {
        const old = this.client;
        this.client = fresh;
        this.ended = false;
        this.watch(fresh);
        void old.end().catch(() => undefined);
      })
      .finally(() => {
        this.reconnecting = undefined;
      });
    await this.reconnecting;
  }

  async close(): Promise<void> {
    await this.client.end();
  }

  /** The connection, a new one first when the last ended: a read after an outage need not fail once. */
  private async current(): Promise<Client> {
    if (this.pinned) return this.pinned;
    if (this.ended) await this.reconnect();
    return this.client;
  }

  private watch(client: Client): void {
    client.on('end', () => {
      if (this.client === client) this.ended = true;
    });
  }
}

/** `$1, $2, …, $count`: the placeholders of a statement's parameters. */
export function numbered(count: number): string {
  return Array.from({ length: count }, (_, i) => `$${i + 1}`).join(', ');
}
