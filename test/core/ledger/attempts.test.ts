import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ATTEMPTS_FILE, readAttempts, recordAttempt, type Attempt } from '../../../src/core/ledger/attempts';

const ATTEMPT: Attempt = {
  at: '2026-12-05T10:00:00.000Z',
  operator: 'ada',
  cell: 'full',
  environment: 'production',
  production: true,
  outcome: 'refused',
  gate: 'checklist',
  reason: 'required checklist items are not checked: a',
};

describe('refused and cancelled attempts', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attempts-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('appends each attempt and reads them back oldest first, creating the state folder', () => {
    const stateDir = path.join(dir, 'demo.backfill.d');
    recordAttempt(stateDir, ATTEMPT);
    recordAttempt(stateDir, { ...ATTEMPT, outcome: 'cancelled', gate: 'typed-name' });
    assert.deepEqual(
      readAttempts(stateDir).map((a) => [a.outcome, a.gate]),
      [
        ['refused', 'checklist'],
        ['cancelled', 'typed-name'],
      ],
    );
  });

  it('skips a torn last line and reads nothing from a missing file', () => {
    assert.deepEqual(readAttempts(path.join(dir, 'none')), []);
    recordAttempt(dir, ATTEMPT);
    fs.appendFileSync(path.join(dir, ATTEMPTS_FILE), '{"at":"2026-12');
    assert.equal(readAttempts(dir).length, 1);
  });
});
