/**
 * Field help shared by the three kind registries (sources, actions, checks): the editor's hovers and
 * completions for a `source:`, `action:` or `check:` mapping. This file cannot depend on the vscode API.
 */

/** Field name → what it means, in one short Markdown sentence. */
export type FieldHelp = Readonly<Record<string, string>>;

/**
 * The help of one family's mapping: `type` lists the registered kinds, then the fields every kind takes,
 * then each kind's own fields (the first kind to document a shared field, such as `path`, words it).
 */
export function familyFieldHelp(
  kinds: readonly { type: string; fieldHelp: FieldHelp }[],
  common: FieldHelp = {},
): FieldHelp {
  const types = kinds.map((kind) => kind.type);
  const listed = types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types.at(-1)}` : types.join('');
  const help: Record<string, string> = { type: `${listed}.`, ...common };
  for (const kind of kinds) {
    for (const [field, text] of Object.entries(kind.fieldHelp)) help[field] ??= text;
  }
  return help;
}

/**
 * The help of a mapping whose `type:` names one kind: the family's `type` line, the common fields and that
 * kind's own fields, so `url:` under a SQL action is its connection URL, not the HTTP template the family
 * words first. A type that is missing or unknown (still being typed) gives the whole family's help.
 */
export function kindFieldHelp(
  kinds: readonly { type: string; fieldHelp: FieldHelp }[],
  type: string | undefined,
  common: FieldHelp = {},
): FieldHelp {
  const family = familyFieldHelp(kinds, common);
  const kind = kinds.find((candidate) => candidate.type === type);
  return kind ? { type: family.type!, ...common, ...kind.fieldHelp } : family;
}
