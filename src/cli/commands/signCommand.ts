import * as fs from 'node:fs';
import * as readline from 'node:readline/promises';
import { openLedger } from '../../core/ledger/openLedger';
import { applySignOff, signOffMark, signOffTarget } from '../../core/signoff/signOff';
import { UserError } from '../../core/model/types';
import { ExitCode } from '../exitCodes';
import { whoIsActing } from '../identity';
import { loadRunbook } from '../loadRunbook';

export interface SignOptions {
  item: string;
  checklist?: string;
  as?: string;
  key?: string;
  yes?: boolean;
}

/**
 * `backfill sign FILE --item ID`: signs one checklist item off in the runbook, bound to the plan as it
 * is now (and with --key, signed with the signer's SSH key). Signing an item someone else owns asks
 * first: a question on a terminal, `--yes` otherwise.
 */
export async function signCommand(file: string, options: SignOptions): Promise<number> {
  const runbook = loadRunbook(file);
  const target = signOffTarget(runbook, options.item, options.checklist);
  const by = whoIsActing(file, options.as);
  if (by !== target.owner && !options.yes) {
    const question = `"${target.text}" is owned by ${target.owner}. Sign it off as ${by}?`;
    if (!process.stdin.isTTY) {
      throw new UserError(
        `${question} Pass --yes to sign an item someone else owns (or --as ${target.owner}).`,
      );
    }
    if (!(await confirm(`${question} [y/N] `))) {
      process.stderr.write('backfill: not signed\n');
      return ExitCode.refused;
    }
  }
  const mark = signOffMark(runbook, target, {
    item: target.itemId,
    by,
    ...(options.key ? { key: options.key } : {}),
  });
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, applySignOff(text, file, target, mark));
  await recordInLedger(file, { checklist: target.cell.id, item: target.itemId, by, at: mark.at });
  process.stdout.write(
    `Signed off ${target.cell.id}/${target.itemId} as ${by}${mark.signature ? ' (signed with ' + options.key + ')' : ''}, ` +
      `for plan ${mark.plan}: a change to the jobs, execute cells or this checklist needs a new sign-off.\n`,
  );
  return ExitCode.ok;
}

async function confirm(question: string): Promise<boolean> {
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

/** The ledger keeps the history of sign-offs; the runbook holds the one the gate reads. */
async function recordInLedger(
  file: string,
  signOff: { checklist: string; item: string; by: string; at: string },
): Promise<void> {
  try {
    const ledger = await openLedger(file);
    try {
      await ledger.recordSignOff({ ...signOff, checked: true });
      await ledger.save();
    } finally {
      await ledger.close();
    }
  } catch (error) {
    process.stderr.write(
      `backfill: warning: the sign-off is in the runbook but not in the ledger: ${(error as Error).message}\n`,
    );
  }
}
