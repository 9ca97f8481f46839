/**
 * Shared types of the pure core. This folder (src/core) cannot depend on the vscode API:
 * the same engine runs headless from the CLI and inside the extension.
 */

/** A located, actionable problem: rendered as `FILE:LINE: cell ID: FIELD: message`. */
export interface Issue {
  file: string;
  line: number;
  cell?: string;
  field?: string;
  message: string;
}

/** One raw item read from a record source, before schema validation. */
export type SourceItem =
  | { kind: 'record'; line: number; fields: Record<string, unknown> }
  | { kind: 'rejected'; line: number; reason: string };

/** A stream of records from a source; the content hash is complete once iteration ends. */
export interface RecordStream extends AsyncIterable<SourceItem> {
  /** sha256 (hex) of the bytes the records were read from; valid after iteration completes. */
  contentHash(): string;
  /** Bytes consumed so far, for progress on long reads. */
  bytesRead(): number;
  /** Total bytes when known up front (files), for progress. */
  totalBytes(): number | undefined;
}

/** A record that passed the declared record schema and has a key. */
export interface ValidRecord {
  key: string;
  line: number;
  fields: Record<string, unknown>;
}

/** A record refused by validation; counted and listed, never fatal. */
export interface RejectedRecord {
  line: number;
  key?: string;
  reason: string;
}

/** Error whose message is already written for the user (no stack trace needed). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A refusal by a safety gate (exit code 4): the message says which gate and how to satisfy it. */
export class RefusedError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}
