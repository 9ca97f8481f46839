export declare const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
export interface PostgresServer {
  /** `postgresql://backfill[:password]@127.0.0.1:PORT/postgres`. */
  url: string;
  port: number;
  user: string;
  password?: string;
  /** Runs one statement as the superuser and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** `pg_ctl restart -m fast`: every session ends (57P01), the server is back when it resolves. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast`, keeping the data: the database is away until `up()`. */
  down(): Promise<void>;
  /** Starts the server again after `down()`, on the same port. */
  up(): Promise<void>;
  /** `pg_ctl stop -m fast`; removes the folder. Safe to call twice. */
  stop(): Promise<void>;
}
/** Why PostgreSQL cannot be started here (not installed, no `postgres` user, not root), or undefined. */
export declare function postgresUnavailable(): string | undefined;
/** Starts a fresh cluster; throws with initdb's or pg_ctl's output when it cannot. */
export declare function startPostgres(options?: { password?: string }): Promise<PostgresServer>;
