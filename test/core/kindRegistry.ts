import assert from 'node:assert/strict';

interface RegisteredKind {
  type: string;
  schema: { shape: Record<string, unknown> & { type: { value: unknown } } };
  fieldHelp: Readonly<Record<string, string>>;
}

/**
 * What every kind registry promises, checked for each registered kind: a distinct type naming its
 * schema's literal, an example in the family's test, a format union built from the registry itself, and
 * help for exactly the fields the kind takes (`common` are the fields every kind of the family takes).
 */
export function itChecksEveryRegisteredKind(family: {
  kinds: readonly RegisteredKind[];
  union: { options: readonly unknown[] };
  /** The schema of the cell field that holds this family, e.g. JobCellSchema.shape.action. */
  cellField: unknown;
  examples: Readonly<Record<string, unknown>>;
  common?: readonly string[];
}): void {
  const { kinds, union, cellField, examples, common = [] } = family;

  it('has an example for every registered kind, and each kind a distinct type', () => {
    const types = kinds.map((kind) => kind.type);
    assert.equal(new Set(types).size, types.length);
    assert.deepEqual(
      types.filter((type) => !examples[type]),
      [],
    );
  });

  it("builds the format's union from the registry, so no kind is missing from it", () => {
    assert.deepEqual(
      union.options,
      kinds.map((kind) => kind.schema),
    );
    assert.equal(cellField, union);
  });

  for (const kind of kinds) {
    it(`names the ${kind.type} kind after its schema's type literal`, () => {
      assert.equal(kind.schema.shape.type.value, kind.type);
    });

    it(`documents every field the ${kind.type} kind takes, and no other`, () => {
      const own = Object.keys(kind.schema.shape).filter((field) => field !== 'type');
      assert.deepEqual([...common, ...Object.keys(kind.fieldHelp)].sort(), own.sort());
      for (const text of Object.values(kind.fieldHelp)) assert.match(text, /\S/);
    });
  }
}
