import { strict as assert } from 'node:assert';
import { parseRunbook, type RunnableCell } from '../../../src/core/format/runbook';
import { resolveJob } from '../../../src/core/job/job';
import { formatIssue } from '../../../src/core/model/issues';
import { MALFORMED } from '../../support/malformedRunbooks';

describe('runbook validation', () => {
  it('has at least 15 distinct malformed cases', () => {
    assert.ok(MALFORMED.length >= 15);
  });

  for (const c of MALFORMED) {
    it(`reports ${c.name} at its line, cell and field`, () => {
      const { runbook, issues } = parseRunbook(c.text, 'bad.backfill');
      assert.equal(runbook, undefined);
      const issue = issues.find((i) => i.message.includes(c.message));
      assert.ok(issue, `no issue says "${c.message}"; got:\n${issues.map(formatIssue).join('\n')}`);
      assert.equal(issue.line, c.line, formatIssue(issue));
      assert.equal(issue.cell, c.cell, formatIssue(issue));
      if (c.field) assert.equal(issue.field, c.field, formatIssue(issue));
    });
  }

  it('formats an issue as FILE:LINE: cell ID: FIELD: message', () => {
    assert.equal(
      formatIssue({
        file: 'a.backfill',
        line: 7,
        cell: 'full',
        field: 'throttle.rate',
        message: 'expected a number',
      }),
      'a.backfill:7: cell full: throttle.rate: expected a number',
    );
  });

  it('applies defaults to a valid job so later cells inherit the throttle', () => {
    const text =
      '---\ntitle: T\nname: t\nowner: o\n---\n```job id=j\nsource:\n  type: inline\n  key: id\n  records: []\n' +
      'action:\n  type: http\n  url: http://127.0.0.1:1/\nthrottle:\n  rate: 7\n```\n';
    const { runbook, issues } = parseRunbook(text, 'ok.backfill');
    assert.deepEqual(issues, []);
    const job = runbook!.cells[0]!;
    assert.equal(job.kind, 'job');
    if (job.kind === 'job') {
      assert.equal(job.spec.throttle.rate, 7);
      assert.equal(job.spec.throttle.concurrency, 4);
    }
  });

  it('reports an invalid job cell once, not again as an unknown job in the cells that use it', () => {
    const text =
      '---\ntitle: T\nname: t\nowner: o\n---\n```job id=j\nsource:\n  type: inline\n  key: id\n  records: []\n' +
      'action:\n  type: http\n  url: http://127.0.0.1:1/\nthrottle:\n  concurency: 2\n```\n\n```dry-run id=d\njob: j\n```\n';
    const { issues } = parseRunbook(text, 'bad.backfill');
    assert.deepEqual(
      issues.map((issue) => formatIssue(issue)),
      [
        'bad.backfill:15: cell j: throttle.concurency: unknown field "concurency": did you mean "concurrency"?',
      ],
    );
  });

  it('says which cells take a field placed in a cell that does not, never suggesting the field itself', () => {
    const text =
      '---\ntitle: T\nname: t\nowner: o\n---\n```job id=j\nsource:\n  type: inline\n  key: id\n  records: []\n' +
      'action:\n  type: http\n  url: http://127.0.0.1:1/\n```\n\n```verify id=v\njob: j\nmaxRejected: 2\n' +
      'check:\n  type: http\n  url: http://127.0.0.1:1/\n  expect: { status: 200 }\n```\n\n' +
      '```execute id=e\njob: j\nthrottle:\n  maxRejected: 1\n```\n';
    const { issues } = parseRunbook(text, 'bad.backfill');
    assert.deepEqual(
      issues.map((issue) => formatIssue(issue)),
      [
        'bad.backfill:18: cell v: maxRejected: maxRejected is a field of dry-run and execute cells, not of verify cells: remove it here',
        'bad.backfill:28: cell e: throttle.maxRejected: "maxRejected" is not a field here: remove it, or move it where it belongs (see the runbook format in README.md)',
      ],
    );
  });

  it('says how to add a missing job without suggesting jobs when there are none', () => {
    const text = '---\ntitle: T\nname: t\nowner: o\n---\n```dry-run id=d\njob: orders\n```\n';
    const { issues } = parseRunbook(text, 'bad.backfill');
    assert.deepEqual(
      issues.map((issue) => issue.message),
      ['unknown job "orders": add a `job id=orders` cell'],
    );
  });
});

describe('cell overrides', () => {
  it("override only the throttle and error budget fields a cell names, keeping the job's others", () => {
    const text =
      '---\ntitle: T\nname: t\nowner: o\n---\n```job id=j\nsource:\n  type: inline\n  key: id\n  records: []\n' +
      'action:\n  type: http\n  url: http://127.0.0.1:1/\nthrottle:\n  rate: 7\n  retries: 9\n  timeoutMs: 1234\n' +
      'errorBudget:\n  window: 40\n```\n```execute id=e\njob: j\nthrottle:\n  rate: 2\nerrorBudget:\n  maxFailures: 5\n```\n';
    const { runbook, issues } = parseRunbook(text, 'o.backfill');
    assert.deepEqual(issues, []);
    const cell = runbook!.cells[1]!;
    assert.equal(cell.kind, 'execute');
    const job = resolveJob(runbook!, cell as RunnableCell);
    assert.deepEqual(
      [job.throttle.rate, job.throttle.retries, job.throttle.timeoutMs, job.throttle.concurrency],
      [2, 9, 1234, 4],
    );
    assert.deepEqual([job.errorBudget.window, job.errorBudget.maxFailures], [40, 5]);
  });
});
