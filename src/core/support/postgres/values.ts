/**
 * How PostgreSQL values become record values and back. This file cannot depend on the vscode API.
 *
 * Values are read as the database's own text except where a JSON type is exact: integers within 2^53
 * become numbers, larger ones and `numeric` stay decimal text (never rounded), booleans are booleans, json
 * is parsed, timestamps and dates stay as the server prints them (in UTC, the session's time zone), bytea
 * becomes base64. So a record is plain JSON and the same rows always hash the same.
 */
import type { CustomTypesConfig } from 'pg';
import { types } from 'pg';

const INT8 = 20;
const INT2 = 21;
const INT4 = 23;
const OID = 26;
const FLOAT4 = 700;
const FLOAT8 = 701;
const BOOL = 16;
const JSON_OID = 114;
const JSONB = 3802;
const BYTEA = 17;

function integer(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
}

/** The type parsers every backfill connection uses (text format). */
export const recordTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number) => {
    switch (oid) {
      case INT2:
      case INT4:
      case OID:
      case INT8:
        return integer;
      case FLOAT4:
      case FLOAT8:
        return (text: string) => Number(text);
      case BOOL:
        return (text: string) => text === 't';
      case JSON_OID:
      case JSONB:
        return (text: string) => JSON.parse(text) as unknown;
      case BYTEA:
        return (text: string) => (types.getTypeParser(BYTEA, 'text')(text) as Buffer).toString('base64');
      default:
        return (text: string) => text;
    }
  }) as CustomTypesConfig['getTypeParser'],
};

/**
 * A record value as a statement parameter: objects and arrays go as JSON text (for json/jsonb columns),
 * everything else as itself; pg sends it as text and the server converts it to the column's type, so a
 * value it cannot convert fails that record with the server's message.
 */
export function toParameter(value: unknown): unknown {
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}
