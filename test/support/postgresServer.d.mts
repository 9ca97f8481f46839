export declare const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
export interface PostgresServer {
  /** `postgresql://backfill[:password]@127.0.0.1:PORT/postgres`. */
  url: string;
  port: number;
  user: string;
  password?: string;
  /** Runs one statement as the superuser and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** `pg_ctl stop -m fast`; removes the folder. Safe to call twice. */
  stop(): Promise<void>;
}
/** Why PostgreSQL cannot be started here (not installed, no `postgres` user, not root), or undefined. */
export declare function postgresUnavailable(): string | undefined;
/** Starts a fresh cluster; throws with initdb's or pg_ctl's output when it cannot. */
export declare function startPostgres(options?: { password?: string }): Promise<PostgresServer>;
