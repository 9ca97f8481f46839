/**
 * A real PostgreSQL 15 for tests: `initdb` as the `postgres` user (the server refuses to run as root) into a
 * temporary folder, `pg_ctl` on a free port on 127.0.0.1, stopped (and the folder removed) by `stop()`.
 * With a password the cluster uses scram-sha-256, so a test can catch a leaked password.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { freePort } from './freePort.mjs';
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
/** Why PostgreSQL cannot be started here (not installed, no `postgres` user, not root), or undefined. */
export function postgresUnavailable() {
  if (!fs.existsSync(path.join(POSTGRES_BIN, 'initdb'))) return 'postgresql-15 is not installed';
  if (process.getuid?.() !== 0) return 'starting PostgreSQL as the postgres user needs root';
  if (postgresIds() === undefined) return 'there is no postgres user';
  return undefined;
}
function postgresIds() {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}
/** Starts a fresh cluster; throws with initdb's or pg_ctl's output when it cannot. */
export async function startPostgres(options = {}) {
  const ids = postgresIds();
  if (!ids) throw new Error('there is no postgres user: install postgresql-15');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-pg-'));
  fs.chownSync(dir, ids.uid, ids.gid);
  const asPostgres = (bin, args) => {
    const result = spawnSync(path.join(POSTGRES_BIN, bin), args, {
      uid: ids.uid,
      gid: ids.gid,
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (result.status !== 0) {
      throw new Error(`${bin} failed (${result.status}): ${result.stdout}${result.stderr}`);
    }
  };
  // The same, without blocking this process: a test's target server goes on answering meanwhile.
  const asPostgresAsync = (bin, args) =>
    new Promise((resolve, reject) => {
      const child = spawn(path.join(POSTGRES_BIN, bin), args, { uid: ids.uid, gid: ids.gid, cwd: dir });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('error', reject);
      // 'exit', not 'close': a server started by pg_ctl may keep its output pipes open.
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`${bin} failed (${code}): ${output}`)),
      );
    });
  const data = path.join(dir, 'data');
  const user = 'backfill';
  const initArgs = ['-D', data, '-U', user, '--no-sync', '--encoding=UTF8', '--locale=C'];
  if (options.password !== undefined) {
    const pwfile = path.join(dir, 'pwfile');
    fs.writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
    fs.chownSync(pwfile, ids.uid, ids.gid);
    asPostgres('initdb', [...initArgs, `--pwfile=${pwfile}`, '--auth=scram-sha-256']);
    fs.rmSync(pwfile);
  } else {
    asPostgres('initdb', [...initArgs, '--auth=trust']);
  }
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  asPostgres('pg_ctl', ['-D', data, '-o', serverOptions, '-l', path.join(dir, 'log'), '-w', 'start']);
  const auth = options.password === undefined ? user : `${user}:${encodeURIComponent(options.password)}`;
  const url = `postgresql://${auth}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    port,
    user,
    ...(options.password !== undefined ? { password: options.password } : {}),
    async query(sql, params = []) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    restart() {
      const log = path.join(dir, 'log');
      return asPostgresAsync('pg_ctl', ['-D', data, '-l', log, '-m', 'fast', '-w', 'restart']);
    },
    down() {
      return asPostgresAsync('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    up() {
      const log = path.join(dir, 'log');
      return asPostgresAsync('pg_ctl', ['-D', data, '-o', serverOptions, '-l', log, '-w', 'start']);
    },
    stop() {
      if (stopped) return Promise.resolve();
      stopped = true;
      try {
        // A test that took the server down (down()) leaves nothing to stop.
        if (fs.existsSync(path.join(data, 'postmaster.pid'))) {
          asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      return Promise.resolve();
    },
  };
}
