import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { cliWorkspace, ledgerRows } from '../support/cliWorkspace';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';

interface JsonResult {
  outcome: string;
  status: { done: number; skipped: number; succeeded: number; failed: number };
}

interface MarksFile {
  version: number;
  linesPerSegment: number;
  segments: Record<string, [number, number, number | null]>;
}

/**
 * Segments of 100 lines, so 3,000 records make 30 of them; the validator asks for the repeated keys past
 * 300 keys (so they are kept for the resume) and chains past 100 records are merged with the source.
 */
const SMALL = {
  BACKFILL_LINES_PER_SEGMENT: '100',
  BACKFILL_TEST_KEYS_REMEMBERED: '300',
  BACKFILL_TEST_KEY_RUN_SIZE: '200',
  BACKFILL_TEST_KEYS_IN_MEMORY: '100',
};

/** 3,000 rows: every 97th with a quoted note over two lines, and keys repeated before, across and after the halt. */
function writeSource(dir: string): Buffer {
  const rows = ['id,amount,note'];
  for (let i = 1; i <= 3000; i += 1) {
    rows.push(`${keyOf(i)},${i}.5,${i % 97 === 0 ? `"two\nlines ${i}"` : `n${i}`}`);
    if (i === 150) rows.push(`${keyOf(50)},50.25,again`);
    if (i === 2500) rows.push(`${keyOf(1000)},1000.25,across`);
    if (i === 2700) rows.push(`${keyOf(2600)},2600.25,after`);
  }
  const bytes = Buffer.from(rows.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'records.csv'), bytes);
  return bytes;
}

describe('backfill run resume from where the finished part of the source ends', function () {
  this.timeout(120_000);
  const work = cliWorkspace();

  async function haltedRun() {
    const haltBlock = (key: string) => {
      const n = Number(key.slice(1));
      return n >= 1500 && n < 1512;
    };
    let halting = true;
    const target = await work.serve((arrival) => (halting && haltBlock(arrival.key) ? { status: 500 } : {}));
    const file = writeFixtureRunbook(work.dir, {
      records: 0,
      retries: 0,
      concurrency: 4,
      rate: 100000,
      executeExtra: 'errorBudget:\n  maxConsecutiveFailures: 6\n',
    });
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('    amount: number\n', '    amount: number\n    note: string\n'),
    );
    const bytes = writeSource(work.dir);
    const run = () =>
      runCli(['run', file, '--cell', 'full', '--var', `BASE_URL=${target.url}`, '--execute', '--json'], {
        env: SMALL,
      });
    const halted = await run();
    assert.equal(halted.code, 3, halted.stdout + halted.stderr);
    halting = false;
    return { file, bytes, target, run, first: JSON.parse(halted.stdout) as JsonResult };
  }

  function marksOf(file: string): MarksFile {
    const outcomes = path.join(`${file}.d`, 'outcomes');
    const chains = fs
      .readdirSync(outcomes)
      .filter((name) => fs.statSync(path.join(outcomes, name)).isDirectory());
    assert.equal(chains.length, 1);
    return JSON.parse(fs.readFileSync(path.join(outcomes, chains[0]!, 'marks.json'), 'utf8')) as MarksFile;
  }

  it('sends every record exactly once after a halt, keeps duplicates out, and counts what it read past as skipped', async () => {
    const { file, bytes, target, run, first } = await haltedRun();
    const sentFirst = new Set(target.arrivals.map((arrival) => arrival.key));
    assert.ok(sentFirst.size > 1400 && sentFirst.size < 1600, `halted after ${sentFirst.size}`);

    // What the halted run kept: where rows start (never inside the quoted notes), and per finished segment
    // how many records it owed, which is what its outcomes number.
    const kept = marksOf(file);
    assert.equal(kept.version, 1);
    assert.equal(kept.linesPerSegment, 100);
    const rows = await ledgerRows(file, {});
    const outcomesIn = (n: number) =>
      rows.filter((row) => Math.floor(Number((row as unknown as { line: number }).line) / 100) === n).length;
    const finished = Object.entries(kept.segments).filter(([, [, , owed]]) => owed !== null);
    assert.ok(finished.length >= 14, `${finished.length} segments read to their end`);
    for (const [n, [line, byte, owed]] of Object.entries(kept.segments)) {
      if (Number(n) === 0) continue;
      assert.equal(bytes[byte - 1], 0x0a, `segment ${n}'s mark is at a line start`);
      assert.match(
        bytes.subarray(byte, byte + 2).toString(),
        /^k\d/,
        `segment ${n}'s mark (line ${line}) starts a row: ${JSON.stringify(bytes.subarray(byte - 4, byte + 12).toString())}`,
      );
      assert.ok(line >= Number(n) * 100 && line < Number(n) * 100 + 100);
      if (owed !== null && Number(n) < 14) assert.equal(owed, outcomesIn(Number(n)), `segment ${n}`);
    }

    const resumed = await run();
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const second = JSON.parse(resumed.stdout) as JsonResult;
    assert.equal(
      second.status.skipped,
      first.status.done,
      'every record done before is skipped, read or not',
    );
    const counts = target.countsByKey();
    assert.equal(counts.size, 3000);
    assert.deepEqual(
      [...counts].filter(([, n]) => n !== 1),
      [],
      'every key once: what the halt left failed stays failed (for --only failed), the rest is sent',
    );
    const amountOf = (key: string) =>
      target.arrivals
        .filter((arrival) => arrival.key === key)
        .map((arrival) => (JSON.parse(arrival.body) as { amount: number }).amount);
    assert.deepEqual(
      amountOf(keyOf(1000)),
      [1000.5],
      'a key repeated across the halt is sent for its first line only',
    );
    assert.deepEqual(amountOf(keyOf(2600)), [2600.5]);
    // The finished chain's marks cover every segment now, each with what it owed.
    const after = marksOf(file);
    const rowsAfter = await ledgerRows(file, {});
    for (const [n, [, , owed]] of Object.entries(after.segments)) {
      assert.equal(
        owed,
        rowsAfter.filter(
          (row) => Math.floor(Number((row as unknown as { line: number }).line) / 100) === Number(n),
        ).length,
        `segment ${n}`,
      );
    }
  });

  it('resumes a chain whose ledger has no marks (an older ledger) by reading the source from its start', async () => {
    const { file, target, run, first } = await haltedRun();
    const outcomes = path.join(`${file}.d`, 'outcomes');
    const chains = fs.readdirSync(outcomes).filter((name) => name !== 'chains.json');
    assert.equal(chains.length, 1);
    fs.rmSync(path.join(outcomes, chains[0]!, 'marks.json'));
    const resumed = await run();
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as JsonResult).status.skipped, first.status.done);
    assert.equal(target.countsByKey().size, 3000);
    assert.ok([...target.countsByKey().values()].every((n) => n === 1));
  });

  it('refuses to resume once early rows were replaced by as many bytes, even with the old modification time put back', async () => {
    const { target, run } = await haltedRun();
    const csv = path.join(work.dir, 'records.csv');
    const before = fs.statSync(csv);
    const bytes = fs.readFileSync(csv);
    // r0000010 becomes r0000011 in the 10th row: the same length, a key sent twice if it were believed.
    const at = bytes.indexOf(`${keyOf(10)},`);
    bytes.write(keyOf(11), at);
    fs.writeFileSync(csv, bytes);
    fs.utimesSync(csv, before.atime, before.mtime);
    const sent = target.arrivals.length;
    const resumed = await run();
    assert.equal(resumed.code, 2, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout + resumed.stderr, /source data changed/);
    assert.equal(target.arrivals.length, sent, 'nothing is sent');
  });
});
