import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { checklistItems, toggleChecklistItem } from '../../../src/core/format/checklistEdit';

const MARK = { by: 'Grace Hopper', at: '2026-11-03T09:30:00.000Z' };

const BODY = [
  '# owners sign here',
  '- item: Orders service owner agrees',
  '  owner: Grace Hopper',
  '  required: true',
  '- id: announce',
  '  item: Announcement posted',
  "  owner: 'Ada'",
  '  checked: { by: Ada, at: "2026-11-01T10:00:00Z" }',
].join('\n');

describe('checking checklist items in the YAML of a checklist cell', () => {
  it('adds a checked line under an unchecked item and changes nothing else', () => {
    const toggle = toggleChecklistItem(BODY, 'orders-service-owner-agrees', MARK);
    assert.ok(toggle.ok);
    assert.equal(toggle.checked, true);
    assert.equal(
      toggle.text,
      BODY.replace(
        '  required: true\n',
        '  required: true\n  checked: { by: "Grace Hopper", at: "2026-11-03T09:30:00.000Z" }\n',
      ),
    );
    assert.deepEqual(parse(toggle.text)[0].checked, MARK);
  });

  it('removes the checked line of a checked item, even the last line of the cell', () => {
    const toggle = toggleChecklistItem(BODY, 'announce', MARK);
    assert.ok(toggle.ok);
    assert.equal(toggle.checked, false);
    assert.equal(toggle.text, BODY.replace('\n  checked: { by: Ada, at: "2026-11-01T10:00:00Z" }', ''));
    assert.equal(parse(toggle.text)[1].checked, undefined);
  });

  it('checks then unchecks back to the same text', () => {
    const on = toggleChecklistItem(BODY + '\n', 'orders-service-owner-agrees', MARK);
    assert.ok(on.ok);
    const off = toggleChecklistItem(on.text, 'orders-service-owner-agrees', MARK);
    assert.ok(off.ok);
    assert.equal(off.text, BODY + '\n');
  });

  it('appends to the last item of a cell without a final line break', () => {
    const body = '- item: Only one\n  owner: Ada';
    const toggle = toggleChecklistItem(body, 'only-one', MARK);
    assert.ok(toggle.ok);
    assert.equal(toggle.text, `${body}\n  checked: { by: "Grace Hopper", at: "2026-11-03T09:30:00.000Z" }`);
  });

  it('edits an item written as a flow mapping', () => {
    const toggle = toggleChecklistItem('- { item: Flow item, owner: Ada }\n', 'flow-item', MARK);
    assert.ok(toggle.ok);
    assert.deepEqual(parse(toggle.text)[0].checked, MARK);
  });

  it('refuses an unknown item and names the known ones', () => {
    const toggle = toggleChecklistItem(BODY, 'nope', MARK);
    assert.deepEqual(toggle, {
      ok: false,
      reason: 'no checklist item "nope": use one of: orders-service-owner-agrees, announce',
    });
  });

  it('refuses a body that is not a valid checklist', () => {
    assert.equal(checklistItems('- item: [unclosed').ok, false);
    assert.equal(checklistItems('- owner: nobody').ok, false);
  });
});
