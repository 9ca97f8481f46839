/**
 * Expected field values of a check, and how an actual value is compared with them. This folder cannot
 * depend on the vscode API.
 *
 * An expectation maps a field path to a JSON value whose string leaves are templates, so
 * `amount: ${record:amount}` expects the record's own amount (keeping its type: a number stays a number)
 * and `confirmationResent: true` a constant. Rendering only substitutes values; nothing is evaluated.
 */
import { rangedNumber } from '../model/rangedNumber';
import { z } from 'zod';
import type { ActionIssue } from '../actions/compiledAction';
import { compileJsonTemplate, type CompiledJsonTemplate } from '../actions/jsonTemplate';
import {
  mergeReferences,
  type Rendered,
  type TemplateReferences,
  type TemplateValues,
} from '../actions/template';
import type { CheckVerdict } from '../model/attemptResult';

/** Field path → expected value; string leaves are templates (`${record:FIELD}`, `${env:NAME}`). */
export const expectedFieldsSchema = z.record(z.string(), z.unknown());

/** Largest difference between two numbers that still counts as equal (absolute). */
export const toleranceSchema = rangedNumber('expect.tolerance').default(0);

/** One record's expected values, as field path and value, in the order the runbook lists them. */
export type ExpectedFields = readonly (readonly [path: string, value: unknown])[];

/** Expectations compiled once, rendered for every record. */
export interface CompiledExpectations {
  /** No expectation at all: any answer in the expected form is right. */
  readonly empty: boolean;
  readonly references: TemplateReferences;
  /** The expected values for one record, or why they cannot be known (a field the record lacks). */
  render(values: TemplateValues): Rendered<ExpectedFields>;
}

/** Compiles every expected value; issues name the field, e.g. `expect.body.amount`. */
export function compileExpectations(
  expectations: Readonly<Record<string, unknown>>,
  field: string,
): { ok: true; expectations: CompiledExpectations } | { ok: false; issues: ActionIssue[] } {
  const issues: ActionIssue[] = [];
  const compiled: [string, CompiledJsonTemplate][] = [];
  for (const [path, value] of Object.entries(expectations)) {
    if (path.trim() === '' || path.split('.').some((segment) => segment === '')) {
      issues.push({ field, message: `"${path}" is not a field path: use names separated by "."` });
      continue;
    }
    const template = compileJsonTemplate(value, `${field}.${path}`);
    if (template.ok) compiled.push([path, template.template]);
    else issues.push(...template.issues);
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    expectations: {
      empty: compiled.length === 0,
      references: mergeReferences(compiled.map(([, template]) => template.references())),
      render: (values) => renderAll(compiled, values),
    },
  };
}

function renderAll(
  compiled: [string, CompiledJsonTemplate][],
  values: TemplateValues,
): Rendered<ExpectedFields> {
  const fields: [string, unknown][] = [];
  for (const [path, template] of compiled) {
    const rendered = template.render(values);
    if (!rendered.ok) return { ok: false, reason: `expected ${path}: ${rendered.reason}` };
    fields.push([path, rendered.value]);
  }
  return { ok: true, value: fields };
}

/**
 * Compares the expected fields with what was found: `verified`, or a `mismatch` listing every field that
 * differs, with only those fields in `expected` and `actual`.
 */
export function compareFields(expected: ExpectedFields, found: unknown, tolerance: number): CheckVerdict {
  const differences: string[] = [];
  const expectedValues: Record<string, unknown> = {};
  const actualValues: Record<string, unknown> = {};
  for (const [path, value] of expected) {
    const actual = readPath(found, path);
    if (sameValue(value, actual, tolerance)) continue;
    expectedValues[path] = value;
    if (actual !== undefined) actualValues[path] = actual;
    differences.push(`${path}: expected ${describeValue(value)}, got ${describeFound(actual)}`);
  }
  if (differences.length === 0) return { status: 'verified' };
  return {
    status: 'mismatch',
    detail: differences.join('; '),
    expected: expectedValues,
    actual: actualValues,
  };
}

/**
 * Reads a field: first as a flat name (a column or key may contain dots), then as a dotted path. Only own
 * properties are read, so a path can never reach into prototypes.
 */
export function readPath(value: unknown, path: string): unknown {
  if (!isObject(value)) return undefined;
  if (Object.hasOwn(value, path)) return value[path];
  let current: unknown = value;
  for (const segment of path.split('.')) {
    if (!isObject(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/**
 * Equality of an expected and an actual value. Numbers are equal within `tolerance`, and a number equals
 * the same number written as text (CSV records and many services disagree on that); an expected object
 * is matched field by field and ignores fields it does not name; arrays must match element by element.
 */
export function sameValue(expected: unknown, actual: unknown, tolerance: number): boolean {
  const expectedNumber = asNumber(expected);
  const actualNumber = asNumber(actual);
  if (
    expectedNumber !== undefined &&
    actualNumber !== undefined &&
    (typeof expected === 'number' || typeof actual === 'number')
  ) {
    return Math.abs(expectedNumber - actualNumber) <= tolerance;
  }
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, index) => sameValue(item, actual[index], tolerance))
    );
  }
  if (isObject(expected)) {
    return (
      isObject(actual) &&
      Object.entries(expected).every(([key, item]) => sameValue(item, readPath(actual, key), tolerance))
    );
  }
  return expected === actual;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const SHOWN_VALUE_LENGTH = 80;

/** A value as JSON, cut short: a detail is one line. */
export function describeValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= SHOWN_VALUE_LENGTH ? text : `${text.slice(0, SHOWN_VALUE_LENGTH - 1)}…`;
}

function describeFound(value: unknown): string {
  return value === undefined ? 'nothing (no such field)' : describeValue(value);
}
