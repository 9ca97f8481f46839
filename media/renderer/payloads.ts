/**
 * What the extension puts in a cell output for this renderer: one mime type per view, JSON payloads.
 * The extension (src/extension/) produces them; the renderer only reads them. This file is pure: no DOM,
 * no vscode, so unit tests and the extension can import its types.
 */
import type { DryRunReport } from '../../src/core/dryrun/dryRun';
import type { FleetStatus } from '../../src/core/fleet/fleetStatus';
import type { RunStatus } from '../../src/core/run/runStatus';

export const MIME = {
  dryRun: 'application/vnd.backfill.dry-run+json',
  progress: 'application/vnd.backfill.progress+json',
  verify: 'application/vnd.backfill.verify+json',
  checklist: 'application/vnd.backfill.checklist+json',
} as const;

export type BackfillMime = (typeof MIME)[keyof typeof MIME];

export type DryRunPayload = DryRunReport;

/** One sample of a running backfill, taken about once a second. */
export interface ProgressSample {
  /**
   * When the sample was taken: seconds since the epoch (what the extension sends); milliseconds since
   * the epoch and ISO strings are read too, so the producer can change precision without breaking this.
   */
  t: number | string;
  done: number;
  succeeded: number;
  failed: number;
  /** Records per second at that moment. */
  rate: number;
}

/** A moment the chart marks: the run paused or resumed, its rate changed, or the editor attached to it. */
export interface ProgressMark {
  /** When, as in ProgressSample.t. */
  t: number | string;
  kind: 'paused' | 'resumed' | 'rate' | 'attached';
  /** A few words: "paused", "rate 30/s → 60/s", "attached (earlier history not kept)". */
  label: string;
}

/** Replaced at least once a second while a run is live. */
export interface ProgressPayload {
  status: RunStatus;
  history: ProgressSample[];
  /** Pauses, resumes, rate changes and re-attaches, oldest first (missing from older extensions). */
  marks?: ProgressMark[];
  /**
   * The workers of a run whose ledger is in PostgreSQL (the status then comes from the database, not a
   * status file): every member on every host, alive, lost or ended, and the fleet's controls.
   */
  fleet?: FleetPayload;
}

export type FleetPayload = FleetStatus;

export type VerifyStatus = 'verified' | 'mismatch' | 'missing' | 'error';

export interface VerifySample {
  key: string;
  status: VerifyStatus;
  /** The expected values that differ (JSON text or a value), secrets redacted. */
  expected?: unknown;
  actual?: unknown;
  detail?: string;
}

export interface VerifyPayload {
  cell: string;
  counts: Record<VerifyStatus, number>;
  samples: VerifySample[];
  /** What to do next (a halted verification: how to resume). */
  note?: string;
  /** The production environment the verification read, when it read one: the view is marked. */
  production?: string;
}

export interface ChecklistItem {
  id: string;
  item: string;
  owner?: string;
  required?: boolean;
  checked?: { by: string; at: string };
  /**
   * Set by the extension when the sign-off does not hold (typed by hand, copied onto another item, or
   * given before the plan changed): why, and what to do. The box then shows unchecked.
   */
  problem?: string;
}

export interface ChecklistPayload {
  cell: string;
  items: ChecklistItem[];
}

/** Posted through the renderer's messaging when a checklist box is clicked; the extension records it. */
export interface ToggleChecklistItemMessage {
  type: 'toggleChecklistItem';
  cell: string;
  item: string;
}

/** Posted when the verification output's "Re-send the N unverified records" button is pressed. */
export interface ResendUnverifiedMessage {
  type: 'resendUnverified';
  /** The verify cell whose gaps are sent again (through the execute cell of its job). */
  cell: string;
}

export type ParsedPayload =
  | { mime: typeof MIME.dryRun; payload: DryRunPayload }
  | { mime: typeof MIME.progress; payload: ProgressPayload }
  | { mime: typeof MIME.verify; payload: VerifyPayload }
  | { mime: typeof MIME.checklist; payload: ChecklistPayload };

/**
 * Checks the shape each view relies on, so a payload from an older or newer extension shows a clear
 * message instead of a half-drawn view or an exception in the webview.
 */
export function parsePayload(mime: string, value: unknown): ParsedPayload | { error: string } {
  if (!isObject(value)) return { error: `expected a JSON object for ${mime}` };
  switch (mime) {
    case MIME.dryRun:
      return isObject(value.counts) && Array.isArray(value.preview)
        ? { mime, payload: value as unknown as DryRunPayload }
        : { error: 'a dry-run report needs counts and preview' };
    case MIME.progress:
      return isObject(value.status) && typeof value.status.done === 'number'
        ? { mime, payload: { ...value, history: arrayOr(value.history) } as unknown as ProgressPayload }
        : { error: 'a progress payload needs status.done' };
    case MIME.verify:
      return isObject(value.counts)
        ? { mime, payload: { ...value, samples: arrayOr(value.samples) } as unknown as VerifyPayload }
        : { error: 'a verification payload needs counts' };
    case MIME.checklist:
      return Array.isArray(value.items) && typeof value.cell === 'string'
        ? { mime, payload: value as unknown as ChecklistPayload }
        : { error: 'a checklist payload needs cell and items' };
    default:
      return { error: `no view for ${mime}` };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function arrayOr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
