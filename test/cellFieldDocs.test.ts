import { strict as assert } from 'node:assert';
import {
  DryRunCellSchema,
  ErrorBudgetSchema,
  ExecuteCellSchema,
  HeaderSchema,
  JobCellSchema,
  ThrottleSchema,
  VerifyCellSchema,
} from '../src/core/format/schemas';
import { SubsetSchema } from '../src/core/sources/subset';
import { CELL_FIELDS, NESTED_FIELDS } from '../src/extension/cellFieldDocs';

/** Each schema the editor offers fields of, by the name the help is looked up under. */
const CELLS = {
  header: HeaderSchema,
  job: JobCellSchema,
  'dry-run': DryRunCellSchema,
  execute: ExecuteCellSchema,
  verify: VerifyCellSchema,
};
const MAPPINGS = { throttle: ThrottleSchema, errorBudget: ErrorBudgetSchema, subset: SubsetSchema };

/** The editor's completions and hovers cover every field a runbook may write, new ones included. */
describe('cell field help', () => {
  for (const [kind, schema] of Object.entries(CELLS)) {
    it(`explains every field of the ${kind} cell`, () => {
      const missing = Object.keys(schema.shape).filter((field) => !CELL_FIELDS[kind]?.[field]);
      assert.deepEqual(missing, [], `${kind} fields without help`);
    });
  }

  for (const [mapping, schema] of Object.entries(MAPPINGS)) {
    it(`explains every field of ${mapping}:`, () => {
      const missing = Object.keys(schema.shape).filter((field) => !NESTED_FIELDS[mapping]?.[field]);
      assert.deepEqual(missing, [], `${mapping} fields without help`);
    });
  }

  it('offers no field the schemas would reject', () => {
    for (const [kind, schema] of Object.entries(CELLS)) {
      const extra = Object.keys(CELL_FIELDS[kind] ?? {}).filter((field) => !(field in schema.shape));
      assert.deepEqual(extra, [], `${kind} help for fields the schema rejects`);
    }
  });

  it('says what resend: delivered and maxRejected do', () => {
    assert.match(CELL_FIELDS.execute!.resend!, /`delivered`.*again/);
    assert.match(CELL_FIELDS.execute!.maxRejected!, /rejected/i);
    assert.match(CELL_FIELDS['dry-run']!.maxRejected!, /rejected/i);
  });
});
