// Writes the benchmark runbooks: one job (HTTP to the no-op target, or an in-process no-op module),
// an execute cell `full`, verify cells `check` (HTTP) and `check-noop` (a module: every record right),
// over a generated CSV of `records` rows.
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUTPUT = fileURLToPath(new URL('../output/', import.meta.url));

/** A fresh folder bench/output/NAME (a previous run's ledger would otherwise be resumed). */
export function freshDir(name) {
  const dir = join(OUTPUT, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const keyOf = (i) => `r${String(i).padStart(7, '0')}`;

/** Streams `records` rows `id,amount` to `file`, so a million rows never sit in memory. */
export async function writeRecords(file, records) {
  const out = createWriteStream(file);
  out.write('id,amount\n');
  for (let i = 1; i <= records; i += 1) {
    if (!out.write(`${keyOf(i)},${i % 997}.5\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

// The module check: every record is right (scale's verification costs only the engine and the ledger).
const NOOP_CHECK = `export function verify() {
  return { ok: true };
}
`;

// The module action: does nothing, except what a benchmark asks through the environment — note when
// its first record arrived (resume), or stop the run at one key by creating the halt file.
const NOOP_MODULE = `import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
let first = true;
let seen = 0;
let peakRss = 0;
export function handler(fields) {
  if (first) {
    first = false;
    if (process.env.BENCH_FIRST_FILE) {
      writeFileSync(process.env.BENCH_FIRST_FILE, String(performance.timeOrigin + performance.now()));
    }
  }
  // The largest RSS seen while records are sent, sampled every 10,000: the run without its final fold.
  if (process.env.BENCH_FEED_RSS_FILE && seen++ % 10000 === 0) {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    writeFileSync(process.env.BENCH_FEED_RSS_FILE, String(peakRss));
  }
  if (fields.id === process.env.BENCH_HALT_AT) writeFileSync(process.env.BENCH_HALT_FILE, 'stop');
}
`;

const ACTIONS = {
  http: `action:
  type: http
  method: POST
  url: \${env:BASE_URL}/items/\${record:id}
  body: { id: "\${record:id}", amount: "\${record:amount}" }`,
  module: `action:
  type: module
  path: noop.mjs`,
};

/**
 * Writes `bench.backfill` with records.csv into `dir` and returns its path. `action` is `http` or
 * `module`; `rate` and `concurrency` go to the job's throttle.
 */
export async function writeRunbook(dir, { records, action, rate = 1e6, concurrency = 32, timeoutMs = 5000 }) {
  await writeRecords(join(dir, 'records.csv'), records);
  writeFileSync(join(dir, 'noop.mjs'), NOOP_MODULE);
  writeFileSync(join(dir, 'noop-check.mjs'), NOOP_CHECK);
  const file = join(dir, 'bench.backfill');
  writeFileSync(
    file,
    `---
title: Benchmark
name: bench
owner: bench
environments:
  local:
    vars:
      BASE_URL: http://127.0.0.1:9
---

\`\`\`job id=items
source: { type: csv, path: records.csv, key: id, fields: { id: string, amount: number } }
${ACTIONS[action]}
throttle: { rate: ${rate}, concurrency: ${concurrency}, retries: 0, timeoutMs: ${timeoutMs} }
\`\`\`

\`\`\`execute id=full
job: items
\`\`\`

\`\`\`verify id=check
job: items
check: { type: http, url: "\${env:BASE_URL}/items/\${record:id}", expect: { status: 200 } }
throttle: { rate: ${rate}, concurrency: ${concurrency}, retries: 0, timeoutMs: ${timeoutMs} }
\`\`\`

\`\`\`verify id=check-noop
job: items
check: { type: module, path: noop-check.mjs }
throttle: { rate: ${rate}, concurrency: ${concurrency}, retries: 0, timeoutMs: ${timeoutMs} }
\`\`\`
`,
  );
  return file;
}
