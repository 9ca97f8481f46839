import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRunbook } from '../../../src/core/format/runbook';
import { parseRunbookFile, serializeRunbookFile } from '../../../src/core/format/runbookFile';
import {
  readResultBody,
  renderResultBlock,
  renderResultBody,
  setCellResult,
} from '../../../src/core/format/resultBlock';
import type { Result } from '../../../src/core/format/schemas';
import { UserError } from '../../../src/core/model/types';

const RUNBOOKS = path.join(__dirname, '..', '..', '..', 'runbooks');

const RESULT: Result = {
  outcome: 'halted',
  reason: 'stopped by backfill control: "stop"',
  mode: 'execute',
  environment: 'test',
  operator: 'ada',
  startedAt: '2026-11-05T10:00:00.000Z',
  finishedAt: '2026-11-05T10:01:23.500Z',
  durationMs: 83_500,
  counts: { total: 200, succeeded: 80, failed: 3, rejected: 0, processed: 83 },
  rate: 0.99,
  errors: { 'http-4xx': 3 },
  run: '0b4c2f0e-1111-4222-8333-944455556666',
  fingerprint: 'f'.repeat(64),
};

const DOC = [
  '---',
  'title: T',
  'name: t',
  'owner: O',
  '---',
  '',
  '# Notes with `code` and trailing spaces   ',
  '',
  '```job id=items',
  'source: { type: inline, key: id, records: [{ id: "1" }] }',
  'action: { type: http, url: "http://127.0.0.1:9/${record:id}" }',
  '```',
  '',
  '```execute id=full',
  'job: items',
  '```',
  'A paragraph right after the cell.',
  '',
  '```dry-run id=preview',
  'job: items',
  '```',
].join('\n');

describe('embedded result blocks', () => {
  it('inserts the block right after the cell with one blank line, changing nothing else', () => {
    const before = DOC.replace('```\nA paragraph', '```\n\nA paragraph');
    const after = setCellResult(before, 'full', RESULT);
    const cellEnd = before.indexOf('```\n\nA paragraph') + '```\n'.length;
    const block = renderResultBlock('full', RESULT);
    assert.equal(after, before.slice(0, cellEnd) + '\n' + block + before.slice(cellEnd));
  });

  it('keeps a paragraph that directly followed the cell a paragraph of its own', () => {
    const after = setCellResult(DOC, 'full', RESULT);
    const cellEnd = DOC.indexOf('```\nA paragraph') + '```\n'.length;
    const block = renderResultBlock('full', RESULT);
    assert.equal(after, DOC.slice(0, cellEnd) + '\n' + block + '\n' + DOC.slice(cellEnd));
  });

  it('replaces an existing block in place and leaves the bytes around it alone', () => {
    const first = setCellResult(DOC, 'full', RESULT);
    const second = setCellResult(first, 'full', { ...RESULT, outcome: 'succeeded', reason: undefined });
    const block = (text: string) => /```result for=full\n[\s\S]*?```\n/.exec(text)![0];
    assert.equal(first.replace(block(first), ''), second.replace(block(second), ''));
    assert.match(block(second), /^outcome: succeeded$/m);
    assert.doesNotMatch(block(second), /reason:/);
    assert.equal((second.match(/```result for=full/g) ?? []).length, 1);
  });

  it('round-trips a runbook with embedded results byte for byte, and it still validates', () => {
    const text = setCellResult(setCellResult(DOC, 'full', RESULT), 'preview', {
      ...RESULT,
      mode: 'dry-run',
      outcome: 'passed',
    });
    const { doc, issues } = parseRunbookFile(text, 'x.backfill');
    assert.deepEqual(issues, []);
    assert.equal(serializeRunbookFile(doc!), text);
    const parsed = parseRunbook(text, 'x.backfill');
    assert.deepEqual(parsed.issues, []);
    const full = parsed.runbook!.cells.find((c) => c.id === 'full')!;
    assert.deepEqual(full.result, RESULT);
  });

  it('writes the same block again for the same result (rendering is deterministic)', () => {
    const once = setCellResult(DOC, 'full', RESULT);
    assert.equal(setCellResult(once, 'full', RESULT), once);
  });

  it('reads as a fenced YAML block with a duration in words for a reader of the file', () => {
    const body = renderResultBody(RESULT);
    assert.match(body, /^outcome: halted\n/);
    assert.match(body, /^durationMs: 83500 # 1 min 24 s$/m);
    assert.match(body, /^counts:\n {2}total: 200\n {2}succeeded: 80\n/m);
    assert.match(body, /^ {2}http-4xx: 3$/m);
    assert.match(body, /^reason: 'stopped by backfill control: "stop"'$/m);
  });

  it('keeps CRLF line breaks in a CRLF document and a missing final line break missing', () => {
    const crlf = DOC.replace(/\n/g, '\r\n');
    const after = setCellResult(crlf, 'preview', { ...RESULT, mode: 'dry-run' });
    assert.doesNotMatch(after.replace(/\r\n/g, ''), /\n/);
    assert.ok(after.startsWith(crlf));
    const replaced = setCellResult(after, 'preview', { ...RESULT, mode: 'dry-run', outcome: 'passed' });
    assert.ok(!replaced.endsWith('\n'), 'a final line break was added by a replacement');
  });

  it('uses a longer fence when a value holds a backtick fence', () => {
    const text = setCellResult(DOC, 'full', { ...RESULT, reason: 'see ```log```' });
    assert.match(text, /````result for=full\n/);
    assert.deepEqual(parseRunbook(text, 'x').issues, []);
  });

  it('refuses with a UserError when the cell no longer exists', () => {
    assert.throws(
      () => setCellResult(DOC, 'gone', RESULT),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /no cell with id=gone/);
        return true;
      },
    );
  });

  for (const file of fs.readdirSync(RUNBOOKS).filter((f) => f.endsWith('.backfill'))) {
    it(`adds a result to every runnable cell of ${file} and it still round-trips and validates`, () => {
      let text = fs.readFileSync(path.join(RUNBOOKS, file), 'utf8');
      const { runbook } = parseRunbook(text, file);
      for (const cell of runbook!.cells.filter((c) => c.kind !== 'job' && c.kind !== 'checklist')) {
        text = setCellResult(text, cell.id, RESULT);
      }
      const { doc } = parseRunbookFile(text, file);
      assert.equal(serializeRunbookFile(doc!), text);
      assert.deepEqual(parseRunbook(text, file).issues, []);
    });
  }
});

describe('reading a result block', () => {
  it('reads back exactly the result that was written, comments and all', () => {
    assert.deepEqual(readResultBody(renderResultBody(RESULT)), RESULT);
  });

  it('reads nothing from a body that is not YAML or not a valid result, as the parser would refuse it', () => {
    assert.equal(readResultBody('outcome: [unclosed'), undefined);
    assert.equal(readResultBody('outcome: succeeded\nmode: sometimes\n'), undefined);
    assert.equal(readResultBody('outcome: succeeded\nmode: execute\nsurprise: 1\n'), undefined);
  });
});
