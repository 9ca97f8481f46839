import { strict as assert } from 'node:assert';
import { cellsToRunbook, runbookToCells } from '../../../src/core/format/notebookCells';
import { setRunResult } from '../../../src/core/format/resultSlots';
import { parseRunbookFile } from '../../../src/core/format/runbookFile';
import type { Result } from '../../../src/core/format/schemas';

const REAL: Result = {
  outcome: 'halted',
  mode: 'execute',
  operator: 'ada',
  startedAt: '2026-11-05T10:00:00.000Z',
  counts: { succeeded: 385, failed: 2 },
  run: 'real-1',
};
const DRY: Result = {
  outcome: 'passed',
  mode: 'dry-run',
  operator: 'ada',
  startedAt: '2026-11-05T11:00:00.000Z',
  durationMs: 60,
  counts: { total: 500, valid: 497 },
  run: 'dry-1',
};

const DOC = [
  '---',
  'title: T',
  'name: t',
  'owner: O',
  '---',
  '',
  '```execute id=full',
  'job: items',
  '```',
  '',
  '## Next',
  '',
].join('\n');

function blocks(text: string): { for: string; dryRun: boolean; body: string }[] {
  const { doc, issues } = parseRunbookFile(text, 'runbook');
  assert.deepEqual(issues, []);
  return doc!.segments.flatMap((s) =>
    s.type === 'result' ? [{ for: s.for, dryRun: s.dryRun === true, body: s.body }] : [],
  );
}

describe('result blocks: a dry run never replaces the record of a real run', () => {
  it('leaves a blank line between a new result block and prose that followed its cell directly', () => {
    const tight = DOC.replace('```\n\n## Next', '```\n## Next');
    const text = setRunResult(tight, 'full', REAL);
    assert.match(text, /run: real-1\n```\n\n## Next\n$/);
    assert.equal(blocks(text).length, 1);
  });

  it('keeps the real run and adds the dry run after it when a dry run follows a real run', () => {
    const text = setRunResult(setRunResult(DOC, 'full', REAL), 'full', DRY);
    const found = blocks(text);
    assert.equal(found.length, 2);
    assert.equal(found[0]!.dryRun, false);
    assert.match(found[0]!.body, /run: real-1/);
    assert.equal(found[1]!.dryRun, true);
    assert.match(found[1]!.body, /run: dry-1/);
    assert.match(text, /```result for=full mode=dry-run\n/);
    assert.match(text, /```\n\n## Next\n$/, 'the notes after the cell keep their place');
  });

  it('replaces only the dry-run block on the next dry run, and only the real one on the next real run', () => {
    let text = setRunResult(setRunResult(DOC, 'full', REAL), 'full', DRY);
    text = setRunResult(text, 'full', { ...DRY, run: 'dry-2' });
    text = setRunResult(text, 'full', { ...REAL, run: 'real-2' });
    const found = blocks(text);
    assert.deepEqual(
      found.map((b) => [b.dryRun, /run: (\S+)/.exec(b.body)![1]]),
      [
        [false, 'real-2'],
        [true, 'dry-2'],
      ],
    );
  });

  it('moves a dry run that held the only block to the dry-run block when a real run comes', () => {
    const text = setRunResult(setRunResult(DOC, 'full', DRY), 'full', REAL);
    assert.equal(blocks(setRunResult(DOC, 'full', DRY)).length, 1, 'a dry run alone uses the plain block');
    const found = blocks(text);
    assert.deepEqual(
      found.map((b) => [b.dryRun, /run: (\S+)/.exec(b.body)![1]]),
      [
        [false, 'real-1'],
        [true, 'dry-1'],
      ],
    );
  });

  it('reads both blocks into the cell and writes them back byte for byte', () => {
    const text = setRunResult(setRunResult(DOC, 'full', REAL), 'full', DRY);
    const { cells, eol } = runbookToCells(text);
    const cell = cells.find((c) => c.meta && 'id' in c.meta && c.meta.id === 'full')!;
    assert.ok(cell.meta && 'result' in cell.meta && cell.meta.result && cell.meta.dryRun);
    assert.equal(cells.filter((c) => c.meta?.kind === 'result').length, 0, 'no stray result cell');
    assert.equal(cellsToRunbook(cells, eol).text, text);
  });

  it('reports a dry-run block that is not after its cell or its real run', () => {
    const text = DOC + '\n```result for=full mode=dry-run\nmode: dry-run\n```\n';
    const { issues } = parseRunbookFile(text, 'runbook');
    assert.match(issues[0]?.message ?? '', /must directly follow the cell with id=full/);
  });
});
