// Prints bench/results.json as the Markdown table of bench/README.md, with the load average
// (1 minute) before each benchmark, so the README is pasted from the figures, never retyped.
import { readFileSync } from 'node:fs';

const { machine, benchmarks } = JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8'));
const ORDER = [
  'throughput',
  'overhead',
  'checkpoint',
  'resume',
  'rate',
  'kill',
  'dry-run',
  'verify',
  'sql',
  'postgres-source',
  'amqp',
];
const cell = (value) => String(value).replaceAll('|', '\\|');

console.log(`Machine: ${machine}.\n`);
console.log('| benchmark | figure | target | met | load before |');
console.log('| --- | --- | --- | --- | --- |');
for (const name of ORDER.filter((name) => name in benchmarks)) {
  const { at, loadAverage, rows } = benchmarks[name];
  for (const row of rows) {
    const met = row.met === true ? 'yes' : row.met === false ? '**no**' : '—';
    console.log(
      `| ${cell(row.name)} | ${cell(row.figure)} | ${cell(row.target)} | ${met} | ${loadAverage.before} (${name}, ${at.slice(11, 16)} UTC) |`,
    );
  }
}
