/** Turning one piece of JSON text into a source item: shared by the JSON Lines, JSON array and command sources. */
import type { SourceItem } from '../model/types';
import { hasUndecodableBytes, NOT_UTF8_REASON } from './lineReader';

/** Parses `text` as one record: a JSON object, or a rejection saying what was wrong with it. */
export function jsonTextToItem(text: string, line: number): SourceItem {
  if (hasUndecodableBytes(text)) return { kind: 'rejected', line, reason: NOT_UTF8_REASON };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'rejected', line, reason: `invalid JSON: ${(error as Error).message}` };
  }
  if (!isJsonObject(value)) {
    return { kind: 'rejected', line, reason: `expected a JSON object, got ${describeJsonType(value)}` };
  }
  return { kind: 'record', line, fields: value };
}

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON name of a value's type, for messages: "array", "null", "string", … */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
