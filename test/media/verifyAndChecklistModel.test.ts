import { strict as assert } from 'node:assert';
import { checklistModel } from '../../media/renderer/checklistModel';
import { verifyModel } from '../../media/renderer/verifyModel';
import { checklistPayload, STARTED, verifyPayload } from './payloadFixtures';

describe('renderer verification model', () => {
  it('summarises verified records and the gaps to re-backfill', () => {
    const model = verifyModel(verifyPayload());
    assert.equal(model.headline, '496 of 500 records verified (99.2 %) · 3 to re-backfill');
    assert.equal(model.tone, 'danger');
  });

  it('offers to re-send the mismatched and missing records, and nothing when there are none', () => {
    assert.equal(verifyModel(verifyPayload()).resend, 'Re-send the 3 unverified records');
    const one = verifyModel({
      ...verifyPayload(),
      counts: { verified: 9, mismatch: 0, missing: 1, error: 4 },
    });
    assert.equal(one.resend, 'Re-send the 1 unverified record');
    const none = verifyModel({
      ...verifyPayload(),
      counts: { verified: 9, mismatch: 0, missing: 0, error: 4 },
    });
    assert.equal(none.resend, undefined, 'a record that could not be checked is not known to be wrong');
  });

  it('marks a verification of a production environment, and no other', () => {
    assert.equal(verifyModel({ ...verifyPayload(), production: 'prod' }).production, 'PRODUCTION · prod');
    assert.equal(verifyModel(verifyPayload()).production, undefined);
  });

  it('lists records that are not right with what differs, as text', () => {
    const [first, second] = verifyModel(verifyPayload()).samples.shown;
    assert.equal(first?.statusLabel, 'Mismatch');
    assert.equal(first?.expected, '{"confirmationResent":true}');
    assert.equal(second?.actual, '{"amount":6.5}');
  });

  it('is green when every record is verified', () => {
    const model = verifyModel({
      cell: 'c',
      counts: { verified: 10, mismatch: 0, missing: 0, error: 0 },
      samples: [],
    });
    assert.equal(model.tone, 'success');
    assert.equal(model.samples.more, 0);
  });
});

describe('renderer checklist model', () => {
  it('says which required items still block production', () => {
    const model = checklistModel(checklistPayload(), new Date(STARTED));
    assert.equal(model.summary, '1 of 3 checked · 1 required item blocks production');
    assert.equal(model.tone, 'warning');
  });

  it('shows a sign-off that does not hold as unchecked, with the reason and what to do', () => {
    const payload = checklistPayload();
    const why =
      'job.backfill:75: checklist sign-off: item orders-owner: signed off by grace at 2026-12-06T10:00:00Z, ' +
      'but the job definitions changed since: grace signs it again (backfill sign job.backfill --item orders-owner)';
    payload.items[0]!.problem = why;
    const model = checklistModel(payload, new Date(STARTED));
    const [stale] = model.rows;
    assert.equal(stale?.checked, false);
    assert.equal(stale?.unheld, true);
    assert.match(stale?.note ?? '', /^signed off by grace at \d\d:\d\d:\d\d, but it does not hold: /);
    assert.ok(stale?.note.includes(why), stale?.note);
    assert.match(stale?.note ?? '', /check the box to sign it again$/);
    assert.equal(
      model.summary,
      '0 of 3 checked · 1 sign-off does not hold · 2 required items block production',
    );
    assert.equal(model.tone, 'warning');
  });

  it('records who checked an item and when, and whom an open item waits for', () => {
    const [checked, open] = checklistModel(checklistPayload(), new Date(STARTED)).rows;
    assert.match(checked?.note ?? '', /^checked by grace at \d\d:\d\d:\d\d$/);
    assert.equal(open?.note, 'waiting for Ada Lovelace');
    assert.equal(open?.required, true);
  });
});
