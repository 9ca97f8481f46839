import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Result } from '../../../src/core/format/schemas';
import { redactorFor } from '../../../src/core/report/knownSecrets';
import { writeCellResult } from '../../../src/core/report/recordResult';
import { tempDir } from '../../support/cli';

const CANARY = 'canary-0d9e8f7a6b5c';

const RUNBOOK = `---
title: T
name: t
owner: O
---

\`\`\`job id=items
source: { type: inline, key: id, records: [{ id: "1" }] }
action:
  type: http
  url: http://127.0.0.1:9/\${record:id}
  headers: { Authorization: "Bearer \${secret:TARGET_TOKEN}" }
\`\`\`

\`\`\`execute id=full
job: items
\`\`\`
`;

const RESULT: Result = { outcome: 'succeeded', mode: 'execute', counts: { succeeded: 1 } };

describe('writing a result into the runbook file', () => {
  let work: ReturnType<typeof tempDir>;
  let file: string;
  const redactor = () => redactorFor(RUNBOOK, { TARGET_TOKEN: CANARY });

  beforeEach(() => {
    work = tempDir();
    file = path.join(work.dir, 'job.backfill');
    fs.writeFileSync(file, RUNBOOK);
  });
  afterEach(() => work.cleanup());

  it('keeps an edit made elsewhere in the file after the run started', () => {
    fs.writeFileSync(file, RUNBOOK.replace('title: T', 'title: Edited while running'));
    assert.deepEqual(writeCellResult(file, 'full', RESULT, redactor()), { written: true, file });
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /title: Edited while running/);
    assert.match(text, /```result for=full\noutcome: succeeded\n/);
  });

  it('never writes a secret the runbook refers to, even inside a reason', () => {
    const leaky = { ...RESULT, reason: `401 for Bearer ${CANARY}`, operator: encodeURIComponent(CANARY) };
    assert.ok(writeCellResult(file, 'full', leaky, redactor()).written);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(!text.includes(CANARY));
    assert.match(text, /reason: 401 for Bearer \[redacted:TARGET_TOKEN\]/);
  });

  it('refuses without touching the file when the cell was deleted meanwhile', () => {
    const write = writeCellResult(file, 'gone', RESULT, redactor());
    assert.equal(write.written, false);
    assert.match((write as { reason: string }).reason, /no cell with id=gone/);
    assert.equal(fs.readFileSync(file, 'utf8'), RUNBOOK);
    assert.deepEqual(fs.readdirSync(work.dir), ['job.backfill'], 'a temporary file was left behind');
  });

  it('reports a missing runbook as a reason, not an exception', () => {
    fs.rmSync(file);
    const write = writeCellResult(file, 'full', RESULT, redactor());
    assert.deepEqual(write, { written: false, reason: `cannot write ${file} (ENOENT)` });
  });

  it('keeps the file mode of the runbook', () => {
    fs.chmodSync(file, 0o640);
    writeCellResult(file, 'full', RESULT, redactor());
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
  });
});
