import * as fs from 'node:fs';
import * as readline from 'node:readline/promises';
import { applySignOff, signOffMark, signOffTarget } from '../../core/signoff/signOff';
import { recordSignOffEverywhere } from '../../core/ledger/signOffLedgers';
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
  const signOff = { checklist: target.cell.id, item: target.itemId, by, at: mark.at, checked: true };
  for (const warning of await recordSignOffEverywhere(runbook, signOff, () => process.env))
    process.stderr.write(`backfill: warning: ${warning}\n`);
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
