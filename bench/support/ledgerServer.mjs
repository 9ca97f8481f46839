// What a run costs the PostgreSQL server of its ledger, measured at the server, for bench/workers.mjs:
// - statements the ledger's role executed (pg_stat_statements, loaded by a restart of the bench's own
//   server), which are its round trips: node-pg sends one query at a time per connection and waits for
//   its answer, a parameterized query (Parse/Bind/Execute/Sync) in one write, BEGIN and COMMIT as
//   queries of their own; the only multi-statement texts are schema migrations, once per fresh database;
// - its explicit transactions (COMMIT statements; the statements outside them commit alone, uncounted);
// - the CPU time of every server process (/proc/PID/stat of the postmaster and its children, exited
//   ones included through the postmaster's cutime and cstime), less the observer's own backend;
// - the most connections of the ledger's role seen at once (sampled every 250 ms).
// The bench's own queries (waiting for chunks, sampling) run as another role on one connection, so none
// of them is counted. Counting at the client instead would need a hook into pg, which dist/cli.js bundles.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const OBSERVER = 'bench_observer';
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** Fields of /proc/PID/stat after the command name (which may hold spaces): [1] ppid, [11..14] times. */
function statOf(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime + cutime + cstime (its children waited for) of one process, in clock ticks. */
function ticksOf(fields) {
  return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
}

/** CPU seconds of the postmaster and all its processes, live or exited, but `except`. */
function serverCpuSeconds(postmaster, except) {
  let ticks = ticksOf(statOf(postmaster));
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fields;
    try {
      fields = statOf(name);
    } catch {
      continue; // ended while listed
    }
    if (Number(fields[1]) === postmaster && Number(name) !== except) ticks += ticksOf(fields);
  }
  return ticks / TICKS_PER_SECOND;
}

/**
 * Loads pg_stat_statements into `database` (a server of test/support/postgresServer.mjs: ALTER SYSTEM and
 * a restart, which keeps its command-line options) and connects the observer. Returns the observer's
 * `query`, `measure()` (starts a measured window; its `end()` gives the figures), the server's
 * connection limit, and `close()`.
 */
export async function observeLedgerServer(database) {
  await database.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
  await database.restart();
  await database.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await database.query(`CREATE ROLE ${OBSERVER} LOGIN SUPERUSER PASSWORD '${OBSERVER}'`);
  const client = new pg.Client({
    connectionString: `postgresql://${OBSERVER}:${OBSERVER}@127.0.0.1:${database.port}/postgres`,
  });
  await client.connect();
  const query = async (sql, params = []) => (await client.query(sql, params)).rows;
  const [{ pid }] = await query('SELECT pg_backend_pid() AS pid');
  const postmaster = Number(statOf(pid)[1]);
  const [limits] = await query(
    "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int AS available",
  );

  const counters = async () => {
    const [row] = await query(
      `SELECT coalesce(sum(calls), 0) AS statements,
              coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*commit'), 0) AS commits
         FROM pg_stat_statements WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
      [database.user],
    );
    return { statements: Number(row.statements), commits: Number(row.commits) };
  };
  // Client backends only: the logical replication launcher runs as the bootstrap role, the ledger's here.
  const connections = async () => {
    const [row] = await query(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1 AND backend_type = 'client backend'",
      [database.user],
    );
    return Number(row.n);
  };

  /** Waits until every session of the ledger's role has ended, so the postmaster has their CPU. */
  const settled = async () => {
    for (let waited = 0; waited < 5000 && (await connections()) > 0; waited += 50) await sleep(50);
    await sleep(200);
  };

  async function measure() {
    await settled();
    const before = { ...(await counters()), cpu: serverCpuSeconds(postmaster, pid) };
    let sampling = true;
    let peakConnections = 0;
    const sampler = (async () => {
      while (sampling) {
        peakConnections = Math.max(peakConnections, await connections());
        await sleep(250);
      }
    })();
    return {
      /** Statements, commits, server CPU seconds and the peak connections since `measure()`. */
      async end() {
        sampling = false;
        await sampler;
        await settled();
        const after = { ...(await counters()), cpu: serverCpuSeconds(postmaster, pid) };
        return {
          statements: after.statements - before.statements,
          commits: after.commits - before.commits,
          serverCpuSeconds: after.cpu - before.cpu,
          peakConnections,
        };
      },
    };
  }

  return {
    query,
    measure,
    availableConnections: Number(limits.available),
    close: () => client.end(),
  };
}
