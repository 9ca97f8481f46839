import { strict as assert } from 'node:assert';
import { actionFieldHelp, actionFieldHelpFor } from '../../../src/core/actions/actionKinds';
import { checkFieldHelpFor } from '../../../src/core/checks/checkKinds';
import { sourceFieldHelp, sourceFieldHelpFor } from '../../../src/core/sources/sourceKinds';

describe("the editor's field help for one kind", () => {
  it("gives a SQL action's url as its connection URL, not the HTTP template the family words first", () => {
    assert.match(actionFieldHelp.url!, /URL template/);
    const sql = actionFieldHelpFor('sql');
    assert.match(sql.url!, /Connection URL of the target database/);
    assert.match(sql.type!, /http, .*sql/, 'the type line still lists every action kind');
    assert.deepEqual(
      Object.keys(sql).sort(),
      ['appliedTable', 'dryRun', 'statement', 'statementTimeoutMs', 'type', 'url', 'zeroRows'],
      'only the fields a SQL action takes are completed',
    );
    assert.match(actionFieldHelpFor('amqp').url!, /Broker URL/);
  });

  it("gives a postgres source's query and a postgres check's url as their own, with the source's common fields", () => {
    assert.match(sourceFieldHelp.query!, /sqlite/);
    const postgres = sourceFieldHelpFor('postgres');
    assert.match(postgres.query!, /keyset pages/);
    assert.ok(postgres.key && postgres.fields, 'key and fields, which every source takes, are there');
    assert.equal(postgres.path, undefined);
    assert.match(checkFieldHelpFor('postgres').url!, /Connection URL|secret/);
  });

  it('gives the whole family while the type is missing or still being typed', () => {
    assert.deepEqual(actionFieldHelpFor(undefined), actionFieldHelp);
    assert.deepEqual(sourceFieldHelpFor('postg'), sourceFieldHelp);
  });
});
