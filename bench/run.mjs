// `npm run bench` runs every benchmark; `node bench/run.mjs throughput rate` runs the ones named (after
// `npm run build`). Each prints its figures; bench/results.json keeps the latest figures of every
// benchmark with the machine and the load average around it, since a busy machine changes them; it is
// committed with the table in bench/README.md that `node bench/table.mjs` prints from it.
// No test asserts their figures; test/bench/ only runs each one small so a broken one is caught.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { benchAmqpPublish } from './amqpPublish.mjs';
import { benchCheckpointCost } from './checkpointCost.mjs';
import { benchDryRunCsv } from './dryRunCsv.mjs';
import { benchEngineOverhead } from './engineOverhead.mjs';
import { benchKillSwitch } from './killSwitch.mjs';
import { benchPostgresSource } from './postgresSource.mjs';
import { benchRateAccuracy } from './rateAccuracy.mjs';
import { benchResume } from './resume.mjs';
import { benchResumeMemory } from './resumeMemory.mjs';
import { benchScale } from './scale.mjs';
import { benchSqlBackfill } from './sqlBackfill.mjs';
import { benchThroughput } from './throughput.mjs';
import { benchVerification } from './verification.mjs';
import { benchWorkers } from './workers.mjs';

const BENCHMARKS = {
  throughput: benchThroughput,
  overhead: benchEngineOverhead,
  checkpoint: benchCheckpointCost,
  resume: benchResume,
  'resume-memory': benchResumeMemory,
  scale: benchScale,
  rate: benchRateAccuracy,
  kill: benchKillSwitch,
  'dry-run': async () => [await benchDryRunCsv()],
  verify: benchVerification,
  // The database and queue benchmarks start their own PostgreSQL and RabbitMQ (Debian's, as root).
  sql: benchSqlBackfill,
  'postgres-source': benchPostgresSource,
  amqp: benchAmqpPublish,
  // Many worker processes sharing one run through a PostgreSQL ledger.
  workers: benchWorkers,
};

/** Minutes and gigabytes: run only when named (`node bench/run.mjs scale`), not by `npm run bench`. */
const ONLY_WHEN_NAMED = new Set(['scale', 'workers', 'resume-memory']);

const RESULTS = new URL('./results.json', import.meta.url);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;

const names = process.argv.slice(2);
const unknown = names.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; one of: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}

console.log(`Machine: ${machine}\n`);
const saved = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : { benchmarks: {} };
const chosen =
  names.length > 0 ? names : Object.keys(BENCHMARKS).filter((name) => !ONLY_WHEN_NAMED.has(name));
for (const name of chosen) {
  const before = loadavg()[0];
  const rows = await BENCHMARKS[name]();
  const loadAverage = { before: round(before), after: round(loadavg()[0]) };
  console.log(`${name} (load average ${loadAverage.before} → ${loadAverage.after})`);
  console.table(
    rows.map(({ name: what, figure, target, met }) => ({ benchmark: what, figure, target, met })),
  );
  saved.benchmarks[name] = { at: new Date().toISOString(), loadAverage, rows };
  // Written after each benchmark, so an interrupted run keeps what it measured.
  writeFileSync(RESULTS, JSON.stringify({ ...saved, machine }, null, 2));
}

function round(n) {
  return Math.round(n * 100) / 100;
}
