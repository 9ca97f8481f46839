/**
 * The registry of source kinds: the one list of what a job's `source:` can be. The runbook format's
 * schema, opening, the fingerprint's content hash, describing and the editor's help all go through it,
 * so adding a kind is its module plus one line below. This folder cannot depend on the vscode API.
 */
import { z } from 'zod';
import { familyFieldHelp, kindFieldHelp } from '../model/kindHelp';
import { commandSourceKind } from './commandSource';
import { csvSourceKind } from './csv/csvKind';
import { inlineSourceKind } from './inlineSource';
import { jsonSourceKind } from './json/jsonKind';
import { jsonlSourceKind } from './jsonlSource';
import { postgresSourceKind } from './postgres/postgresKind';
import { sourceCommonFieldHelp } from './sourceFields';
import type { OpenSourceOptions, SourceKind, SourceKindSchema } from './sourceKind';
import { sqliteSourceKind } from './sqliteSource';

/** Every source kind, in the order the editor lists them. */
export const sourceKinds = [
  csvSourceKind,
  jsonlSourceKind,
  jsonSourceKind,
  sqliteSourceKind,
  postgresSourceKind,
  commandSourceKind,
  inlineSourceKind,
] as const;

type SchemasOf<Kinds extends readonly { schema: SourceKindSchema }[]> = {
  [I in keyof Kinds]: Kinds[I]['schema'];
};

/** A job's `source:`, by `type`: the union of every registered kind's schema. */
export const SourceSchema = z.discriminatedUnion(
  'type',
  sourceKinds.map((kind) => kind.schema) as unknown as SchemasOf<typeof sourceKinds>,
);

export type SourceSpec = z.infer<typeof SourceSchema>;

/** The help of a `source:` mapping's fields, for the editor. */
export const sourceFieldHelp = familyFieldHelp(sourceKinds, sourceCommonFieldHelp);

/** The help of a `source:` mapping whose `type:` is `type`: that kind's fields only (all kinds' when unknown). */
export function sourceFieldHelpFor(type: string | undefined) {
  return kindFieldHelp(sourceKinds, type, sourceCommonFieldHelp);
}

/** The kind of a source spec; the schema admits no other type, so a miss is a bug. */
export function sourceKindOf(spec: SourceSpec): SourceKind {
  const kind = sourceKinds.find((candidate) => candidate.type === spec.type);
  if (!kind) throw new Error(`internal error: no source kind "${spec.type}" is registered`);
  // Each kind's parts take its own spec; the registry hands them the spec its `type` selected.
  return kind as unknown as SourceKind;
}

/**
 * The content hash of a source before a run starts, equal to what a dry run's stream computes after
 * reading it: idempotency keys and the production gate need it before the first record is sent.
 */
export function sourceContentHash(spec: SourceSpec, options: OpenSourceOptions): Promise<string> {
  return sourceKindOf(spec).contentHash(spec, options);
}

/** The fields every record of the source has, when its kind knows them before reading (a query's columns). */
export function sourceColumns(spec: SourceSpec, options: OpenSourceOptions): Promise<string[]> | undefined {
  const kind = sourceKindOf(spec);
  return kind.columns?.(spec, options);
}

/** Where the records come from, in words: `csv orders.csv`. */
export function describeSource(spec: SourceSpec): string {
  return sourceKindOf(spec).describe(spec);
}
