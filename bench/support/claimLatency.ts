// Chunk claim latency, through the real ChunkLeases (src/core/fleet/chunkLeases.ts): a synthetic run of
// CHUNKS chunks, claimed and marked done one by one by one connection; prints JSON { claimMs, doneMs }
// (medians). Run by bench/workers.mjs as `node --import tsx bench/support/claimLatency.ts URL CHUNKS`.
import { ChunkLeases, insertChunks } from '../../src/core/fleet/chunkLeases';
import { PostgresLedger } from '../../src/core/ledger/postgresLedger';

async function main(): Promise<void> {
  const [url, count = '500'] = process.argv.slice(2);
  const chunks = Number(count);
  const ledger = await PostgresLedger.open({ url: url!, name: 'claim-latency' });
  const scope = { schema: 'backfill', ledger: 'claim-latency', run: `run-${Date.now()}` };
  await ledger.transaction(async () => {
    await ledger.startRun({
      id: scope.run,
      chain: 'chain',
      cell: 'full',
      job: 'items',
      mode: 'execute',
      environment: 'local',
      operator: 'bench',
      host: 'bench',
      pid: process.pid,
      startedAt: new Date().toISOString(),
      fingerprint: 'bench',
      params: '{}',
      outcome: 'running',
    });
    const ranges = Array.from({ length: chunks }, (_, n) => ({ n, firstLine: n * 10, lastLine: n * 10 + 9 }));
    await insertChunks(ledger, scope, ranges);
  });
  await ledger.close();
  const leases = await ChunkLeases.connect(url!, scope, 'bench:1:x', 30);
  const claims: number[] = [];
  const dones: number[] = [];
  for (let i = 0; i < chunks; i += 1) {
    let started = performance.now();
    const chunk = await leases.claim(i);
    claims.push(performance.now() - started);
    started = performance.now();
    await leases.markDone(chunk!.n);
    dones.push(performance.now() - started);
  }
  await leases.close();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(JSON.stringify({ claimMs: median(claims), doneMs: median(dones) }));
}

void main();
