/**
 * Checks each record read from a source against the job's declared record schema: types the declared
 * fields (CSV values arrive as strings), derives the record's key and spots repeated keys. A record
 * that fails is rejected with a reason precise enough to fix the source without guessing.
 */
import type { FieldSpec } from './sourceFields';
import { sourceKindOf, type SourceSpec } from './sourceKinds';

const NO_KEYS = { has: () => false };
import type { RejectedRecord, SourceItem, ValidRecord } from '../model/types';
import { UserError } from '../model/types';
import { describeJsonType } from './jsonRecord';

/** A record whose key was already seen; the first occurrence is the one kept. */
export interface DuplicateRecord {
  key: string;
  line: number;
  /** Line of the first record with this key. */
  firstLine: number;
}

/** The verdict on one item: exactly one of the three is set. */
export type CheckResult =
  | { valid: ValidRecord; rejected?: undefined; duplicate?: undefined }
  | { valid?: undefined; rejected: RejectedRecord; duplicate?: undefined }
  | { valid?: undefined; rejected?: undefined; duplicate: DuplicateRecord };

export interface ValidationCounts {
  checked: number;
  valid: number;
  rejected: number;
  duplicates: number;
}

type Coerced = { value: unknown } | { problem: string };

interface CompiledField {
  name: string;
  spec: FieldSpec;
  pattern: RegExp | undefined;
}

/**
 * Keys a validator remembers in full before it asks for the source's repeated keys: about 20 MB. A
 * source this small is checked as always, with no second pass; a bigger one pays one more read of its
 * source, once per source (the run keeps the result, repeatedKeysCache.ts).
 */
export const DEFAULT_KEYS_REMEMBERED = 250_000;

/**
 * Validates the records of one source in source order and finds repeated keys, in bounded memory.
 *
 * A small source (most runbooks) is checked as always: every key is remembered with its first line.
 * Once `keysRemembered` keys are held, {@link needsRepeatedKeys} turns true and the caller hands over the
 * keys the whole source holds on more than one line ({@link useRepeatedKeys}, from repeatedKeys.ts);
 * from then on only those are remembered. The verdicts stay exactly the same: a key not in that set is
 * on one line only, so it can never be a duplicate, and a repeated key's first valid line is remembered
 * whether it came before the switch (kept) or after (recorded when seen).
 */
export class RecordValidator {
  readonly counts: ValidationCounts = { checked: 0, valid: 0, rejected: 0, duplicates: 0 };
  private readonly keyField: string;
  private readonly keySpec: CompiledField | undefined;
  private readonly fields: CompiledField[];
  private readonly keysRemembered: number;
  /** Key → line of its first valid record: every key, or only the repeated ones once they are known. */
  private firstLineOfKey = new Map<string, number>();
  private repeated: { has(key: string): boolean } | undefined;
  /** The source's keys are unique as it reads them; a typed key must then keep their text (see verdict). */
  private uniqueAsRead = false;

  /** Throws a UserError when a declared pattern is not a valid regular expression. */
  constructor(
    spec: Pick<SourceSpec, 'key' | 'fields'> & { type?: SourceSpec['type'] },
    options: { keysRemembered?: number } = {},
  ) {
    this.keyField = spec.key;
    this.fields = Object.entries(spec.fields).map(([name, field]) => ({
      name,
      spec: field,
      pattern: compilePattern(name, field.pattern),
    }));
    this.keySpec = this.fields.find((field) => field.name === spec.key);
    this.keysRemembered = options.keysRemembered ?? DEFAULT_KEYS_REMEMBERED;
    // A kind that never repeats a key has no repeated keys to find: nothing to remember, no second pass.
    if (spec.type !== undefined && sourceKindOf(spec as SourceSpec).uniqueKeys) {
      this.repeated = NO_KEYS;
      this.uniqueAsRead = true;
    }
  }

  /** True once the validator holds too many keys to go on without the source's repeated keys. */
  get needsRepeatedKeys(): boolean {
    return this.repeated === undefined && this.firstLineOfKey.size >= this.keysRemembered;
  }

  /** From now on, remembers only these keys: those the whole source holds on more than one line. */
  useRepeatedKeys(repeated: { has(key: string): boolean }): void {
    this.repeated = repeated;
    // Copied rather than deleted from: deleting a quarter of a million keys one by one cost 70 ms more.
    const kept = new Map<string, number>();
    for (const [key, line] of this.firstLineOfKey) if (repeated.has(key)) kept.set(key, line);
    this.firstLineOfKey = kept;
  }

  /**
   * The key `check` gives this item when it has one (valid or not), without checking its other fields:
   * what the pass that finds repeated keys collects.
   */
  keyOf(item: SourceItem): string | undefined {
    if (item.kind === 'rejected') return undefined;
    let value = ownValue(item.fields, this.keyField);
    // As in coerceFields: the typed value when typing succeeds, else the value as read.
    if (this.keySpec && !isMissing(value)) {
      const coerced = coerceValue(value, this.keySpec.spec.type);
      const pattern = this.keySpec.pattern;
      if (!('problem' in coerced) && (!pattern || pattern.test(String(coerced.value)))) value = coerced.value;
    }
    const key = recordKey(this.keyField, value);
    return 'key' in key ? key.key : undefined;
  }

  /** Checks the next item read from the source. */
  check(item: SourceItem): CheckResult {
    this.counts.checked += 1;
    const result = this.verdict(item);
    if (result.valid) this.counts.valid += 1;
    else if (result.rejected) this.counts.rejected += 1;
    else this.counts.duplicates += 1;
    return result;
  }

  /**
   * Accounts for a record skipped without being checked because its key is already known to be
   * finished (a resume). Its key still counts as seen, so a later record with that key is a duplicate
   * as it would be after a full check. Returns false when the key was seen before: a duplicate.
   */
  skipUnchecked(key: string, line: number): boolean {
    this.counts.checked += 1;
    if (this.firstLineOfKey.has(key)) {
      this.counts.duplicates += 1;
      return false;
    }
    this.counts.valid += 1;
    this.remember(key, line);
    return true;
  }

  private verdict(item: SourceItem): CheckResult {
    if (item.kind === 'rejected') return { rejected: { line: item.line, reason: item.reason } };
    const fields = { ...item.fields };
    const problems = this.coerceFields(fields);
    const key = recordKey(this.keyField, ownValue(fields, this.keyField));
    if ('problem' in key) {
      return { rejected: { line: item.line, reason: [key.problem, ...(problems ?? [])].join('; ') } };
    }
    if (problems) {
      return { rejected: { line: item.line, key: key.key, reason: problems.join('; ') } };
    }
    // Unique as read, but typing could merge two keys ('01' and '1' are both the integer 1), and no key
    // is remembered to catch it: a key whose text typing changes is refused instead.
    if (this.uniqueAsRead && this.keySpec) {
      const read = recordKey(this.keyField, ownValue(item.fields, this.keyField));
      if ('key' in read && read.key !== key.key) {
        const reason = `the key ${JSON.stringify(read.key)} reads as ${JSON.stringify(key.key)} as ${this.keySpec.spec.type}, so two keys could become one: declare the key as string, or return it as the database's ${this.keySpec.spec.type} (cast it in the query)`;
        return { rejected: { line: item.line, key: read.key, reason } };
      }
    }
    const firstLine = this.firstLineOfKey.get(key.key);
    if (firstLine !== undefined) return { duplicate: { key: key.key, line: item.line, firstLine } };
    this.remember(key.key, item.line);
    return { valid: { key: key.key, line: item.line, fields } };
  }

  private remember(key: string, line: number): void {
    if (this.repeated === undefined || this.repeated.has(key)) this.firstLineOfKey.set(key, line);
  }

  /**
   * Types the declared fields of `fields` (a copy of the record's) in place and removes empty optional
   * ones; returns every problem, or nothing when there is none (no array for a valid record).
   */
  private coerceFields(fields: Record<string, unknown>): string[] | undefined {
    let problems: string[] | undefined;
    for (const { name, spec, pattern } of this.fields) {
      const value = ownValue(fields, name);
      if (isMissing(value)) {
        // An empty CSV cell (or null) means "no value": absent for optional fields, an error for required
        // ones, except the key, whose absence is reported once as a missing key.
        if (!spec.required) delete fields[name];
        else if (name !== this.keyField) (problems ??= []).push(`field ${name}: required but missing`);
        continue;
      }
      const coerced = coerceValue(value, spec.type);
      if ('problem' in coerced) {
        (problems ??= []).push(`field ${name}: ${coerced.problem}`);
        continue;
      }
      if (pattern && !pattern.test(String(coerced.value))) {
        (problems ??= []).push(
          `field ${name}: ${show(String(coerced.value))} does not match pattern ${pattern.source}`,
        );
        continue;
      }
      // Safe even for a field named "__proto__": the value exists, so it is an own property that shadows the setter.
      fields[name] = coerced.value;
    }
    return problems;
  }
}

function compilePattern(name: string, pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined) return undefined;
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new UserError(`field ${name}: invalid pattern ${pattern}: ${(error as Error).message}`);
  }
}

/** Reads an own property only, so a record without a "__proto__" field does not yield Object.prototype. */
function ownValue(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

// Strict forms: Number() would also accept "", " ", "0x1F", "1e3 " and "Infinity".
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** Converts `value` to the declared type, or says why it cannot be. */
export function coerceValue(value: unknown, type: FieldSpec['type']): Coerced {
  switch (type) {
    case 'string':
      if (typeof value === 'string') return { value };
      // Ids often arrive as JSON numbers; their decimal text is the intended string.
      if (typeof value === 'number' || typeof value === 'boolean') return { value: String(value) };
      return { problem: `expected a string, got ${describeJsonType(value)}` };
    case 'number':
      return toNumber(value);
    case 'integer':
      return toInteger(value);
    case 'boolean':
      return toBoolean(value);
  }
}

function toNumber(value: unknown): Coerced {
  if (typeof value === 'number' && Number.isFinite(value)) return { value };
  if (typeof value === 'string' && DECIMAL.test(value.trim())) {
    const number = Number(value);
    // "1e999" or a 400-digit amount is decimal text, but as a number it is Infinity, which a JSON body
    // would carry as null: refuse it rather than send something other than what the source says.
    if (!Number.isFinite(number)) {
      return { problem: `${show(value)} is too large for a number; declare the field as a string` };
    }
    return { value: number };
  }
  return { problem: `expected a number, got ${show(value)}` };
}

function toInteger(value: unknown): Coerced {
  const text = typeof value === 'string' ? value.trim() : undefined;
  const number =
    typeof value === 'number' ? value : text !== undefined && INTEGER.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(number)) return { problem: `expected an integer, got ${show(value)}` };
  if (!Number.isSafeInteger(number)) {
    return { problem: `${show(value)} is too large to be exact as a number; declare the field as a string` };
  }
  return { value: number };
}

function toBoolean(value: unknown): Coerced {
  if (typeof value === 'boolean') return { value };
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (text === 'true' || text === 'false') return { value: text === 'true' };
  return { problem: `expected true or false, got ${show(value)}` };
}

/**
 * Longest string a reason quotes: enough to recognise the value. Reasons are printed, listed in the dry
 * run's report and stored in the ledger, so a 10 MB cell must not be copied into each of them.
 */
const SHOWN_LENGTH = 60;

/** A value as it appears in a message: strings quoted (the start of a long one), other JSON as JSON. */
function show(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > SHOWN_LENGTH ? `${value.slice(0, SHOWN_LENGTH - 3)}...` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeJsonType(value);
}

/**
 * The key as a string. Numbers are fine (their decimal text is the key) unless too large to be exact,
 * which would silently merge distinct records; anything that is not a plain value cannot be a key.
 */
function recordKey(field: string, value: unknown): { key: string } | { problem: string } {
  if (isMissing(value)) return { problem: `missing key field ${field}` };
  if (typeof value === 'string') return { key: value };
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      return {
        problem: `key field ${field}: ${value} is too large to be exact; write it as a string in the source`,
      };
    }
    return { key: String(value) };
  }
  return { problem: `key field ${field}: expected a string or a number, got ${describeJsonType(value)}` };
}
