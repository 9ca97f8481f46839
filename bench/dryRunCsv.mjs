// Benchmark: a dry run over a generated 1,000,000-line CSV — time and peak memory (target ≤ 300 MB).
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureNode } from './measure.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'bench', 'output', 'dry-run-csv');

export async function benchDryRunCsv(lines = 1_000_000) {
  mkdirSync(OUT, { recursive: true });
  const csv = join(OUT, 'records.csv');
  await writeCsv(csv, lines);
  const runbook = join(OUT, 'dry-run.backfill');
  writeFileSync(runbook, RUNBOOK);
  const result = await measureNode([
    join(ROOT, 'dist', 'cli.js'),
    'dry-run',
    runbook,
    '--json',
    '--no-progress',
  ]);
  if (result.code !== 0) throw new Error(`dry run failed (${result.code}): ${result.stderr}`);
  const [report] = JSON.parse(result.stdout);
  return {
    name: `dry run of a generated ${lines.toLocaleString('en-US')}-line CSV (validate, render, fingerprint)`,
    figure: `${round(result.seconds)} s (${Math.round(lines / result.seconds).toLocaleString('en-US')} records/s), peak RSS ${Math.round(result.peakMb)} MB`,
    lines,
    valid: report.counts.valid,
    rejected: report.counts.rejected,
    seconds: round(result.seconds),
    recordsPerSecond: Math.round(lines / result.seconds),
    peakMb: round(result.peakMb),
    target: 'peak ≤ 300 MB',
    met: result.peakMb <= 300,
  };
}

async function writeCsv(file, lines) {
  const out = createWriteStream(file);
  out.write('order_id,email,amount,note\n');
  for (let i = 1; i <= lines; i += 1) {
    const row =
      i % 100_000 === 0
        ? `ORD-${i},bad@example.com,not-a-number,"broken"\n`
        : `ORD-${i},user${i}@example.com,${(i % 997) + 0.5},"a ""quoted"", note"\n`;
    if (!out.write(row)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

const RUNBOOK = `---
title: Benchmark dry run
name: bench-dry-run
owner: bench
environments:
  local:
    vars:
      BASE_URL: http://127.0.0.1:9
---

\`\`\`job id=orders
source:
  type: csv
  path: records.csv
  key: order_id
  fields:
    order_id: string
    email: string
    amount: number
action:
  type: http
  url: \${env:BASE_URL}/orders/\${record:order_id}/resend
  body:
    orderId: \${record:order_id}
    amount: \${record:amount}
throttle:
  rate: 1000
\`\`\`

\`\`\`dry-run id=preview
job: orders
successThreshold: 0.99
\`\`\`
`;

const round = (n) => Math.round(n * 100) / 100;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await benchDryRunCsv(Number(process.argv[2] ?? 1_000_000)), null, 2));
}
