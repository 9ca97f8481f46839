import { strict as assert } from 'node:assert';
import { dryRunModel } from '../../media/renderer/dryRunModel';
import { LIST_CAP } from '../../media/renderer/aggregate';
import { demoDryRun, HOSTILE_VALUE, hostileDryRun } from './payloadFixtures';

describe('renderer dry-run model', () => {
  it('states the verdict and why the demo dry run did not pass', () => {
    const model = dryRunModel(demoDryRun());
    assert.equal(model.verdict, 'Dry run not passed');
    assert.equal(model.passed, false);
    assert.deepEqual(model.problems, [
      'secret ORDERS_API_TOKEN is not set: provide it (e.g. export ORDERS_API_TOKEN=…) before a real run',
    ]);
    assert.equal(model.context, 'cell preview · job orders · local');
  });

  it('counts read, valid, rejected, duplicate and selected records', () => {
    const stats = Object.fromEntries(dryRunModel(demoDryRun()).stats.map((stat) => [stat.id, stat.value]));
    assert.deepEqual(stats, { total: '501', valid: '497', rejected: '3', duplicates: '1', selected: '497' });
  });

  it('estimates the duration at the configured rate', () => {
    assert.equal(dryRunModel(demoDryRun()).estimate, '497 records at 50/s, 4 at a time: about 10 s');
  });

  it('renders each sample request exactly, secrets redacted', () => {
    const [first] = dryRunModel(demoDryRun()).samples;
    assert.equal(first?.heading, 'line 2 · ORD-100001');
    assert.equal(first?.why, 'first records');
    assert.match(first?.text ?? '', /^POST http:\/\/127\.0\.0\.1:8080\/orders\/ORD-100001\/resend\n/);
    assert.match(first?.text ?? '', /\nAuthorization: Bearer \[redacted:ORDERS_API_TOKEN\]\n/);
    assert.match(first?.text ?? '', /\n\n\{\n {2}"orderId": "ORD-100001",\n/);
  });

  it('lists rejected records with their line and reason', () => {
    const { rejected } = dryRunModel(demoDryRun());
    assert.deepEqual(rejected.shown[0], {
      line: '43',
      key: 'ORD-100042',
      reason: 'field amount: expected a number, got "12,5"',
    });
    assert.equal(rejected.shown[1]?.key, '—');
    assert.equal(rejected.more, 0);
  });

  it('caps 300,000 rejected records at a few rows and counts the rest', () => {
    const { rejected, rejectedCount } = dryRunModel(hostileDryRun());
    assert.equal(rejected.shown.length, LIST_CAP);
    assert.equal(rejected.more, 300_000 - LIST_CAP);
    assert.equal(rejectedCount, 300_000);
  });

  it('keeps markup in record values as plain text for textContent', () => {
    const { rejected } = dryRunModel(hostileDryRun());
    assert.equal(rejected.shown[0]?.key, `${HOSTILE_VALUE}-0`);
  });

  it('lists duplicates with the line where the key first appeared', () => {
    assert.deepEqual(dryRunModel(demoDryRun()).duplicates.shown, [
      { line: '253', key: 'ORD-100250', firstLine: '252' },
    ]);
  });
});
