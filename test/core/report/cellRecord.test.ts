import { strict as assert } from 'node:assert';
import { cellRecordMarkdown, readableTime } from '../../../src/core/report/cellRecord';

describe('a cell record shown on open', () => {
  it('describes the last real run first, then the last dry run, from the result blocks', () => {
    const text = cellRecordMarkdown({
      result: [
        'outcome: halted',
        'reason: stopped by backfill control',
        'mode: execute',
        'environment: local',
        'operator: ada',
        'startedAt: 2026-11-05T10:03:00.000Z',
        'durationMs: 83000',
        'counts:',
        '  succeeded: 385',
        '  failed: 2',
        'run: r-1',
      ].join('\n'),
      dryRun: 'outcome: passed\nmode: dry-run\ncounts:\n  valid: 497\n',
    })!;
    const [real, dry] = text.split('\n\n');
    assert.match(real!, /^\*\*Last real run: halted\*\* — stopped by backfill control/);
    assert.match(real!, /in local · by ada · 5 Nov 2026, 10:03 UTC · 1 min 23 s/);
    assert.match(real!, /385 succeeded · 2 failed/);
    assert.match(dry!, /^\*\*Last dry run: passed\*\*/);
  });

  it('shows nothing for a cell without results, and skips a block that does not parse', () => {
    assert.equal(cellRecordMarkdown({}), undefined);
    assert.equal(cellRecordMarkdown({ result: 'mode: [' }), undefined);
  });

  it('writes times as people read them and keeps what is not a time', () => {
    assert.equal(readableTime('2026-12-05T23:07:09.123Z'), '5 Dec 2026, 23:07 UTC');
    assert.equal(readableTime('yesterday'), 'yesterday');
  });
});
