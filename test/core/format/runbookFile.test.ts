import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRunbook } from '../../../src/core/format/runbook';
import { parseRunbookFile, renderFence, serializeRunbookFile } from '../../../src/core/format/runbookFile';
import { newRunbookText } from '../../../src/core/format/newRunbook';
import { pick, seeded, type Random } from '../../support/random';

const RUNBOOKS = path.join(__dirname, '..', '..', '..', 'runbooks');

function roundTrip(text: string): string {
  const { doc, issues } = parseRunbookFile(text, 'x.backfill');
  assert.deepEqual(issues, []);
  return serializeRunbookFile(doc!);
}

describe('runbook file format', () => {
  const files = fs.readdirSync(RUNBOOKS).filter((f) => f.endsWith('.backfill'));

  it('finds runbooks to test in runbooks/', () => {
    assert.ok(files.length >= 1);
  });

  for (const file of files) {
    it(`round-trips ${file} byte for byte and validates it`, () => {
      const text = fs.readFileSync(path.join(RUNBOOKS, file), 'utf8');
      assert.equal(roundTrip(text), text);
      const { issues } = parseRunbook(text, file);
      assert.deepEqual(issues, []);
    });
  }

  it('round-trips the template that backfill new writes, and the template is a valid runbook', () => {
    const text = newRunbookText({ name: 'resend', owner: 'Ada' });
    assert.equal(roundTrip(text), text);
    const { runbook, issues } = parseRunbook(text, 'new.backfill');
    assert.deepEqual(issues, []);
    assert.deepEqual(
      runbook!.cells.map((c) => c.kind),
      ['job', 'checklist', 'dry-run', 'execute', 'execute', 'verify'],
    );
  });

  it('round-trips 300 generated documents and recovers every cell exactly', () => {
    const random = seeded(2026);
    for (let n = 0; n < 300; n += 1) {
      const generated = generateDocument(random);
      const { doc, issues } = parseRunbookFile(generated.text, 'gen.backfill');
      assert.deepEqual(issues, [], `document ${n}:\n${generated.text}`);
      assert.equal(serializeRunbookFile(doc!), generated.text, `document ${n}`);
      const cells = doc!.segments.filter((s) => s.type === 'cell');
      assert.deepEqual(
        cells.map((c) => ({ kind: c.kind, id: c.id, body: c.body })),
        generated.cells,
        `document ${n}`,
      );
      const results = doc!.segments.filter((s) => s.type === 'result').map((r) => r.for);
      assert.deepEqual(results, generated.results, `document ${n}`);
    }
  });

  it('keeps a cell-looking line inside a prose fence as prose', () => {
    const text = '---\ntitle: t\n---\n````markdown\n```dry-run id=inner\njob: x\n```\n````\n';
    const { doc } = parseRunbookFile(text, 'x.backfill');
    assert.deepEqual(
      doc!.segments.map((s) => s.type),
      ['notes'],
    );
  });

  it('attaches a result block to the cell right before it', () => {
    const text = '---\nt: 1\n---\n```execute id=run\njob: a\n```\n\n```result for=run\nmode: execute\n```\n';
    const { doc, issues } = parseRunbookFile(text, 'x.backfill');
    assert.deepEqual(issues, []);
    assert.deepEqual(
      doc!.segments.map((s) => s.type),
      ['cell', 'notes', 'result'],
    );
  });

  it('renders a fence longer than any backtick run in the body', () => {
    const fence = renderFence('job id=a', 'body: "```"\n');
    assert.ok(fence.startsWith('````job id=a\n'));
    const { doc } = parseRunbookFile(`---\nt: 1\n---\n${fence}`, 'x.backfill');
    const cell = doc!.segments[0]!;
    assert.equal(cell.type, 'cell');
    assert.equal(cell.type === 'cell' && cell.body, 'body: "```"\n');
  });
});

const PROSE = [
  '# Plan',
  '',
  'Some *notes* with `code` and a [link](https://example.com).',
  '- [ ] a task list item that is prose, not a checklist cell',
  '   indented text',
  '> quote',
  '\t\ttabs and trailing spaces   ',
  'ünïcödé — “quotes”',
  'inline ``` backticks mid-line are not a fence',
];

const KINDS = ['job', 'checklist', 'dry-run', 'execute', 'verify'] as const;

function generateDocument(random: Random): {
  text: string;
  cells: { kind: string; id: string; body: string }[];
  results: string[];
} {
  const eol = random() < 0.3 ? '\r\n' : '\n';
  const lines = (items: string[]) => items.map((l) => l + eol).join('');
  let text = lines(['---', 'title: Generated', 'name: gen', 'owner: someone', '---']);
  const cells: { kind: string; id: string; body: string }[] = [];
  const results: string[] = [];
  const count = Math.floor(random() * 8);
  for (let i = 0; i < count; i += 1) {
    const prose = Array.from({ length: Math.floor(random() * 4) }, () => pick(random, PROSE));
    text += lines(prose);
    if (random() < 0.3) {
      // A prose fence holding something that looks like a cell: it must stay prose.
      const marker = pick(random, ['```', '~~~', '````']);
      text += lines([`${marker}bash`, '```dry-run id=not-a-cell', 'echo $HOME', marker]);
    }
    const kind = pick(random, KINDS);
    const id = `${kind}-${i}`;
    const body = lines(Array.from({ length: Math.floor(random() * 4) }, (_, j) => `key${j}: value ${j}  `));
    const marker = pick(random, ['```', '~~~', '`````']);
    text += `${marker}${kind} id=${id}${eol}${body}${marker}${eol}`;
    cells.push({ kind, id, body });
    if (random() < 0.3) {
      text += `${random() < 0.5 ? eol : ''}\`\`\`result for=${id}${eol}mode: execute${eol}\`\`\`${eol}`;
      results.push(id);
    }
  }
  if (random() < 0.5) text += 'Closing words without a final newline';
  return { text, cells, results };
}
