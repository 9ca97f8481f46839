/**
 * The verify cell's one output: its table (media/renderer/verifyView.ts) with a text line for readers
 * without the renderer. The same output whether a verification just ended (runOutcome.ts) or the runbook
 * was opened again: from the ledger when it is at hand (counts and the first records that are not right),
 * else from the counts the result block in the file recorded.
 */
import * as vscode from 'vscode';
import type { VerifyPayload, VerifySample } from '../../media/renderer/payloads';
import type { Result } from '../core/format/schemas';
import type { Ledger } from '../core/ledger/ledger';
import { UNVERIFIED_STATUSES } from '../core/model/runs';
import { MIME } from './outputs';

const VERIFY_STATUSES = ['verified', 'mismatch', 'missing', 'error'] as const;
/** The records that are not right listed in the table; the rest are in the ledger. */
const VERIFY_SAMPLES = 50;

export function verifyOutput(payload: VerifyPayload): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([
    vscode.NotebookCellOutputItem.json(payload, MIME.verify),
    vscode.NotebookCellOutputItem.text(
      `Verification of ${payload.cell}: ${VERIFY_STATUSES.map((s) => `${payload.counts[s]} ${s}`).join(' · ')}` +
        (payload.note ? `\n${payload.note}` : ''),
    ),
  ]);
}

/**
 * The verification of `cell` as the ledger has it: the chain's records counted by status, and only the
 * first problems read out as samples, so a verification of millions of records costs the editor nothing
 * per record.
 */
export async function verifyPayloadFromLedger(
  ledger: Ledger,
  run: { cell: string; chain: string },
  note?: string,
  production?: string,
): Promise<VerifyPayload> {
  const all = await ledger.countByStatus(run.chain);
  const counts = { verified: all.verified, mismatch: all.mismatch, missing: all.missing, error: all.error };
  const samples: VerifySample[] = [];
  const problems = { cell: run.cell, chain: run.chain, status: UNVERIFIED_STATUSES };
  for await (const outcome of ledger.outcomes(problems)) {
    if (samples.length >= VERIFY_SAMPLES) break;
    samples.push({
      key: outcome.key,
      status: outcome.status as VerifySample['status'],
      ...(outcome.expected !== undefined ? { expected: outcome.expected } : {}),
      ...(outcome.actual !== undefined ? { actual: outcome.actual } : {}),
      ...(outcome.lastError ? { detail: outcome.lastError } : {}),
    });
  }
  return {
    cell: run.cell,
    counts,
    samples,
    ...(note ? { note } : {}),
    ...(production ? { production } : {}),
  };
}

/** The verification a result block recorded: its counts (the records themselves are in the ledger). */
export function verifyPayloadFromResult(cell: string, result: Result, note?: string): VerifyPayload {
  const count = (status: string) => result.counts[status] ?? 0;
  return {
    cell,
    counts: {
      verified: count('verified'),
      mismatch: count('mismatch'),
      missing: count('missing'),
      error: count('error'),
    },
    samples: [],
    ...(note ? { note } : {}),
  };
}
