// `npm run bench`: runs every benchmark, prints a table, writes bench/output/results.json.
// Benchmarks print figures; they are never part of the test suite.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchDryRunCsv } from './dryRunCsv.mjs';

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const results = [await benchDryRunCsv()];

console.log(`Machine: ${machine}\n`);
console.table(results);
mkdirSync(new URL('./output/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./output/results.json', import.meta.url),
  JSON.stringify({ machine, at: new Date().toISOString(), results }, null, 2),
);
