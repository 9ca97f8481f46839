import { strict as assert } from 'node:assert';
import type { Attempt } from '../../../src/core/ledger/attempts';
import { attemptsHtml, attemptsMarkdown } from '../../../src/core/report/attemptsSection';
import { md } from '../../../src/core/report/markdownReport';

const ATTEMPT: Attempt = {
  at: '2026-12-05T10:00:00.000Z',
  operator: 'ada',
  cell: 'full',
  environment: 'production',
  production: true,
  outcome: 'refused',
  gate: 'checklist',
  reason: 'required checklist items are not checked: <Support | knows>',
};

describe('the report lists refused and cancelled attempts', () => {
  it('says who, when, which cell, environment and gate, escaped, in Markdown', () => {
    const text = attemptsMarkdown([ATTEMPT], md);
    assert.match(text, /^## Refused and cancelled attempts\n/);
    const row = text.split('\n').at(-1)!;
    assert.match(row, /\| ada \| `full` \| production \(production\) \| \*\*refused\*\* by checklist — /);
    assert.ok(!row.includes('<Support'), 'record text cannot become HTML');
    assert.equal(row.split(' | ').length, 5, 'a | in the reason does not add a column');
  });

  it('escapes the same in HTML and says none when there were none', () => {
    const html = String(attemptsHtml([ATTEMPT]));
    assert.match(html, /<td>ada<\/td>/);
    assert.match(html, /&lt;Support \| knows&gt;/);
    assert.match(attemptsMarkdown([], md), /None: every real run that was asked for started\./);
  });
});
