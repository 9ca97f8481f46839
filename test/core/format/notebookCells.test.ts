import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { newRunbookText } from '../../../src/core/format/newRunbook';
import {
  cellAtLine,
  cellsToRunbook,
  inferCellKind,
  runbookToCells,
  withResult,
  type CellText,
} from '../../../src/core/format/notebookCells';
import { renderResultBlock } from '../../../src/core/format/resultBlock';
import { parseRunbook } from '../../../src/core/format/runbook';
import { pick, seeded, type Random } from '../../support/random';

const RUNBOOKS = path.join(__dirname, '..', '..', '..', 'runbooks');

function roundTrip(text: string): string {
  const { cells, eol } = runbookToCells(text);
  return cellsToRunbook(cells, eol).text;
}

function kinds(cells: CellText[]): string[] {
  return cells.map((cell) =>
    cell.meta && 'id' in cell.meta ? `${cell.meta.kind}:${cell.meta.id}` : cell.meta!.kind,
  );
}

const SMALL = [
  '---',
  'title: Small',
  'name: small',
  'owner: Ada',
  '---',
  '',
  '# Plan',
  'Prose.',
  '',
  '```job id=orders',
  'source: { type: inline, key: id, records: [{ id: a }] }',
  'action: { type: command, argv: [echo] }',
  '```',
  '',
  '```dry-run id=preview',
  'job: orders',
  '```',
  '',
  '```result for=preview',
  'mode: dry-run',
  '```',
  '',
  'The end.',
  '',
].join('\n');

describe('runbook text as notebook cells', () => {
  const files = fs.readdirSync(RUNBOOKS).filter((f) => f.endsWith('.backfill'));

  for (const file of files) {
    it(`gives back ${file} byte for byte when no cell changed`, () => {
      const text = fs.readFileSync(path.join(RUNBOOKS, file), 'utf8');
      assert.equal(roundTrip(text), text);
    });
  }

  it('gives back the template of backfill new byte for byte', () => {
    const text = newRunbookText({ name: 'resend', owner: 'Ada' });
    assert.equal(roundTrip(text), text);
  });

  it('gives back 500 generated documents byte for byte, CRLF and missing final newlines included', () => {
    const random = seeded(7);
    for (let n = 0; n < 500; n += 1) {
      const text = generate(random);
      assert.equal(roundTrip(text), text, `document ${n}:\n${JSON.stringify(text)}`);
    }
  });

  it('makes the header a YAML cell, prose a Markdown cell without its blank lines, and each fence a cell', () => {
    const { cells } = runbookToCells(SMALL);
    assert.deepEqual(kinds(cells), ['header', 'notes', 'job:orders', 'dry-run:preview', 'notes']);
    assert.equal(cells[0]!.value, 'title: Small\nname: small\nowner: Ada');
    assert.equal(cells[1]!.value, '# Plan\nProse.');
    assert.equal(cells[1]!.markup, true);
    assert.equal(cells[3]!.value, 'job: orders');
    assert.equal(cells[4]!.value, 'The end.');
  });

  it('attaches a result block to the cell before it instead of making it a cell', () => {
    const { cells } = runbookToCells(SMALL);
    const meta = cells[3]!.meta as { result?: { body: string } };
    assert.equal(meta.result?.body, 'mode: dry-run\n');
  });

  it('writes an edited cell back and leaves every other byte alone', () => {
    const { cells, eol } = runbookToCells(SMALL);
    cells[3] = { ...cells[3]!, value: 'job: orders\nsuccessThreshold: 0.5' };
    const text = cellsToRunbook(cells, eol).text;
    assert.equal(
      text,
      SMALL.replace('job: orders\n```\n\n```result', 'job: orders\nsuccessThreshold: 0.5\n```\n\n```result'),
    );
  });

  it('gives a cell added in the editor a kind and a fresh id, and the runbook stays valid', () => {
    const { cells, eol } = runbookToCells(SMALL);
    cells.push({
      markup: false,
      value: 'job: orders\nsubset: { first: 1 }\nerrorBudget: { maxFailures: 1 }',
    });
    cells.push({ markup: true, value: 'Added notes.' });
    const text = cellsToRunbook(cells, eol).text;
    assert.match(text, /The end\.\n\n```execute id=execute-1\njob: orders\n/);
    assert.match(text, /```\n\nAdded notes\.\n$/);
    assert.deepEqual(parseRunbook(text, 'x.backfill').issues, []);
    assert.deepEqual(kinds(runbookToCells(text).cells).slice(-2), ['execute:execute-1', 'notes']);
  });

  it('writes a new cell the same way again once the metadata it was written with is kept', () => {
    const { cells, eol } = runbookToCells(SMALL);
    cells.splice(
      2,
      0,
      { markup: false, value: '- item: New\n  owner: Ada' },
      { markup: true, value: 'More.' },
    );
    const first = cellsToRunbook(cells, eol);
    const kept = cells.map((cell, i) => ({ ...cell, meta: first.metas[i]! }));
    assert.equal(cellsToRunbook(kept, eol).text, first.text);
    assert.deepEqual(parseRunbook(first.text, 'x.backfill').issues, []);
  });

  it('sets a result block after a cell with one blank line, and the file parses with it attached', () => {
    const { cells, eol } = runbookToCells(SMALL);
    const block = renderResultBlock('orders', { mode: 'dry-run', outcome: 'passed', counts: { total: 1 } });
    cells[2] = { ...cells[2]!, meta: withResult(cells[2]!.meta!, block, eol) };
    const text = cellsToRunbook(cells, eol).text;
    assert.ok(text.includes('```\n\n```result for=orders\noutcome: passed\n'), text);
    const parsed = parseRunbook(text, 'x.backfill');
    assert.deepEqual(parsed.issues, []);
    assert.equal(parsed.runbook!.cells.find((c) => c.id === 'orders')!.result?.outcome, 'passed');
  });

  it('replaces an existing result block in place', () => {
    const { cells, eol } = runbookToCells(SMALL);
    const block = renderResultBlock('preview', { mode: 'dry-run', outcome: 'not passed', counts: {} });
    cells[3] = { ...cells[3]!, meta: withResult(cells[3]!.meta!, block, eol) };
    const text = cellsToRunbook(cells, eol).text;
    assert.equal(
      text,
      SMALL.replace(
        '```result for=preview\nmode: dry-run\n',
        '```result for=preview\noutcome: not passed\nmode: dry-run\n',
      ),
    );
  });

  it('lengthens a fence when an edited body holds a line that would close it', () => {
    const { cells, eol } = runbookToCells(SMALL);
    cells[3] = { ...cells[3]!, value: 'job: orders\ndescription: |\n  ```\n  quoted\n  ```' };
    const text = cellsToRunbook(cells, eol).text;
    assert.match(text, /````dry-run id=preview\n/);
    assert.equal(
      parseRunbook(text, 'x.backfill').runbook?.cells.find((c) => c.id === 'preview')?.kind,
      'dry-run',
    );
  });

  it('keeps a document it cannot split as one raw cell, unchanged', () => {
    const text = '# no front matter\n```job id=x\nsource: {}\n```\n';
    const { cells } = runbookToCells(text);
    assert.deepEqual(kinds(cells), ['raw']);
    assert.equal(roundTrip(text), text);
    const unterminated = SMALL.replace(/```\n\nThe end/, 'The end').replace(/```\n$/, '');
    assert.equal(roundTrip(unterminated), unterminated);
  });

  it('maps a file line to the cell and the line inside it', () => {
    const { cells, eol } = runbookToCells(SMALL);
    const { lines } = cellsToRunbook(cells, eol);
    assert.deepEqual(cellAtLine(lines, 3), { index: 0, line: 1 }); // name: small
    assert.deepEqual(cellAtLine(lines, 11), { index: 2, line: 0 }); // source:
    assert.deepEqual(cellAtLine(lines, 12), { index: 2, line: 1 }); // action:
    assert.deepEqual(cellAtLine(lines, 10), { index: 2, line: 0 }); // the opening fence
    assert.deepEqual(cellAtLine(lines, 20), { index: 3, line: 0 }); // inside the result block
  });

  it('infers the kind of a new cell from a leading comment or its fields', () => {
    assert.equal(inferCellKind('# execute\njob: orders'), 'execute');
    assert.equal(inferCellKind('- item: x\n  owner: y'), 'checklist');
    assert.equal(inferCellKind('source: {}\naction: {}'), 'job');
    assert.equal(inferCellKind('job: orders\ncheck: {}'), 'verify');
    assert.equal(inferCellKind('job: orders'), 'dry-run');
    assert.equal(inferCellKind(': : :'), 'job');
  });
});

const LINES = [
  '',
  '',
  '   ',
  '# Heading',
  'prose with trailing spaces  ',
  '\tindented',
  '```bash',
  'echo',
  '```',
];
const KINDS = ['job', 'checklist', 'dry-run', 'execute', 'verify'] as const;

function generate(random: Random): string {
  const eol = random() < 0.3 ? '\r\n' : '\n';
  const line = (text: string) => text + eol;
  let text = ['---', 'title: T', 'name: t', 'owner: o'].map(line).join('') + (random() < 0.1 ? '...' : '---');
  text += random() < 0.95 ? eol : '';
  if (!text.endsWith('\n')) return text;
  const count = Math.floor(random() * 6);
  for (let i = 0; i < count; i += 1) {
    const prose = Array.from({ length: Math.floor(random() * 5) }, () => pick(random, LINES));
    // Keep prose fences balanced, so the document stays splittable.
    if (prose.filter((l) => l.startsWith('```')).length % 2 === 1) prose.push('```');
    text += prose.map(line).join('');
    const kind = pick(random, KINDS);
    const body = Array.from({ length: Math.floor(random() * 3) }, (_, j) =>
      pick(random, [`k${j}: v`, '', '  ']),
    )
      .map(line)
      .join('');
    text += `${pick(random, ['```', '~~~~'])}`;
    const marker = text.endsWith('~~~~') ? '~~~~' : '```';
    text += `${kind} id=${kind}-${i}${eol}${body}${marker}`;
    const last = i === count - 1 && random() < 0.3;
    if (last) return text;
    text += eol;
    if (random() < 0.4)
      text += `${pick(random, ['', eol, eol + eol])}\`\`\`result for=${kind}-${i}${eol}mode: execute${eol}\`\`\`${eol}`;
  }
  if (random() < 0.3) text += 'closing words without a final newline';
  return text;
}
