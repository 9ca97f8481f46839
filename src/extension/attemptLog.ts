/**
 * A real run that did not start is recorded (src/core/ledger/attempts.ts) and leaves the cell alone: a
 * refusal is added under the cell's outputs, a cancel only says so in the status bar — no ✗, no popup,
 * and never in place of the record of a real run.
 */
import * as vscode from 'vscode';
import { recordAttempt, type Attempt } from '../core/ledger/attempts';
import { stateDirFor } from '../core/ledger/statePaths';
import type { PreparedRun } from './runPreparation';

/** Records a refused or cancelled real run of `cell`; a failure to record never blocks the user. */
export function logAttempt(
  prepared: PreparedRun,
  cell: string,
  outcome: Attempt['outcome'],
  gate: string,
  reason: string,
): void {
  try {
    recordAttempt(stateDirFor(prepared.file), {
      at: new Date().toISOString(),
      operator: prepared.operator,
      cell,
      environment: prepared.environment.name,
      production: prepared.environment.production,
      outcome,
      gate,
      reason,
    });
  } catch (error) {
    console.warn(`Backfill: could not record the ${outcome} attempt of ${cell}:`, error);
  }
}

/** A cancel is a cancel: recorded, said in the status bar for a few seconds, nothing else. */
export function cancelled(prepared: PreparedRun, cell: string, gate: string, what: string): void {
  logAttempt(prepared, cell, 'cancelled', gate, `${what} cancelled`);
  vscode.window.setStatusBarMessage(`$(circle-slash) Backfill: ${what} cancelled — nothing was sent.`, 8000);
}
