// Takes the PostgreSQL ledger's run lock, says so on stdout, and holds it until killed.
import { lockPostgresRuns } from '../../../../src/core/ledger/postgresBackend';

const [url, name] = process.argv.slice(2) as [string, string];
void lockPostgresRuns(
  { url, name },
  { pid: process.pid, host: 'child', runId: 'held', cell: 'full', startedAt: new Date().toISOString() },
).then(() => {
  process.stdout.write('locked\n');
  setInterval(() => undefined, 1000);
});
