// The practical ceiling: the smallest correct hand-written backfill loop — read the CSV, POST each
// record over keep-alive node:http with p-limit, no ledger, no checkpoints, no retries.
// Usage: node ceilingClient.mjs CSV URL CONCURRENCY
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import pLimit from 'p-limit';

const [csv, url, concurrency] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const limit = pLimit(Number(concurrency));

function post(id, amount) {
  const body = JSON.stringify({ id, amount });
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/items/${encodeURIComponent(id)}`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (response) => {
        response.resume();
        response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(id))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const rows = readFileSync(csv, 'utf8').trimEnd().split('\n').slice(1);
await Promise.all(
  rows.map((row) => {
    const [id, amount] = row.split(',');
    return limit(() => post(id, amount));
  }),
);
agent.destroy();
console.log(JSON.stringify({ sent: rows.length }));
