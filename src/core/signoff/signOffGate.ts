/**
 * Which required sign-offs hold, for the production gate. This file cannot depend on the vscode API.
 *
 * A required item holds when it is checked, its recorded plan hash is the plan now (so a sign-off typed
 * by hand, without one, or given before the plan changed does not hold), and — when the header says
 * `requireSignedSignOffs: true` — its signature verifies against the signer's key in `stakeholders`.
 * A sign-off is bound to its item and signer (signOffPlan.ts), and one without a verified signature must
 * also be the one the ledger recorded when `backfill sign` or the editor made it: a `checked:` line typed
 * or copied by hand, however plausible its hash, holds nothing.
 */
import { checklistItemId, type Runbook } from '../format/runbook';
import type { SignOff } from '../model/runs';
import { boundTo, planChanges, planHash } from './signOffPlan';
import { signOffMessage, sshVerify } from './sshSignature';

/** One required item whose sign-off does not hold, with a located message saying why and what to do. */
export interface SignOffProblem {
  checklist: string;
  item: string;
  owner: string;
  kind:
    | 'unchecked'
    | 'no-plan'
    | 'stale'
    | 'not-bound'
    | 'unrecorded'
    | 'unsigned'
    | 'unknown-key'
    | 'bad-signature';
  /** `FILE:LINE: checklist ID: item ID: why — what to do`. */
  message: string;
}

/**
 * Every required sign-off that does not hold (with `optionalItems`, every sign-off), in the order of the
 * runbook. `recorded` is the ledger's
 * history of sign-offs (Ledger.signOffs()); without it (the editor, before it opens the ledger) a
 * sign-off is not checked against its record — the run's own gate does that.
 */
export function signOffProblems(
  runbook: Runbook,
  recorded?: readonly SignOff[],
  options: { optionalItems?: boolean } = {},
): SignOffProblem[] {
  const problems: SignOffProblem[] = [];
  const keys = new Map(runbook.header.stakeholders.flatMap((s) => (s.key ? [[s.name, s.key]] : [])));
  for (const cell of runbook.cells) {
    if (cell.kind !== 'checklist') continue;
    const plan = planHash(runbook, cell);
    cell.spec.forEach((item, index) => {
      // The gate asks about required items; the checklist view also about the others (optionalItems).
      if (!item.required && !options.optionalItems) return;
      const id = checklistItemId(item);
      const sign = `backfill sign ${runbook.file} --item ${id}`;
      const at = (field: string[], kind: SignOffProblem['kind'], why: string) =>
        problems.push({
          checklist: cell.id,
          item: id,
          owner: item.owner,
          kind,
          message: `${runbook.file}:${cell.locate([index, ...field])}: checklist ${cell.id}: item ${id}: ${why}`,
        });
      const checked = item.checked;
      if (!checked)
        return at([], 'unchecked', `"${item.item}" is not signed off: ${item.owner} signs it (${sign})`);
      if (!checked.plan) {
        return at(
          ['checked'],
          'no-plan',
          `the sign-off by ${checked.by} records no plan (typed by hand?), so it approves nothing: ${sign}`,
        );
      }
      const signer = `${sign} --as ${JSON.stringify(checked.by)}`;
      if (!boundTo(checked.plan, runbook, cell, { item: id, by: checked.by })) {
        return at(
          ['checked'],
          'not-bound',
          `this sign-off was made for another item or signer (copied by hand?), so it approves nothing: ` +
            `${checked.by} signs it (${signer})`,
        );
      }
      if (checked.plan.split('-').slice(0, 3).join('-') !== plan) {
        const why = planChanges(checked.plan, plan).join(', ');
        return at(
          ['checked'],
          'stale',
          `signed off by ${checked.by} at ${checked.at}, but ${why} since: ${checked.by} signs it again (${sign})`,
        );
      }
      if (!runbook.header.requireSignedSignOffs) {
        if (recorded && !recordedSignOff(recorded, cell.id, id, checked)) {
          at(
            ['checked'],
            'unrecorded',
            `the ledger has no sign-off of this item by ${checked.by} at ${checked.at} (typed or copied by ` +
              `hand, or signed against another ledger?), so it approves nothing: ${checked.by} signs it (${signer})`,
          );
        }
        return;
      }
      const key = keys.get(checked.by);
      if (!checked.signature) {
        return at(
          ['checked'],
          'unsigned',
          `the runbook requires signed sign-offs and ${checked.by}'s is not signed: ${sign} --key ~/.ssh/id_ed25519`,
        );
      }
      if (!key) {
        return at(
          ['checked'],
          'unknown-key',
          `signed by ${checked.by}, who has no key in the header: add their public key as \`key:\` under stakeholders`,
        );
      }
      const message = signOffMessage({
        runbook: runbook.header.name,
        checklist: cell.id,
        item: id,
        by: checked.by,
        at: checked.at,
        plan: checked.plan,
      });
      const verified = sshVerify(message, checked.signature, key);
      if (!verified.ok) {
        at(
          ['checked', 'signature'],
          'bad-signature',
          `the signature is not ${checked.by}'s signature of this sign-off (${verified.reason}): ${checked.by} signs it again (${sign} --key …)`,
        );
      }
    });
  }
  return problems;
}

/**
 * Whether a ledger recorded this very sign-off: checked, by the same person, at the same time. The runbook
 * says whether the item is checked now; the ledger says this check was made by backfill.
 */
function recordedSignOff(
  recorded: readonly SignOff[],
  checklist: string,
  item: string,
  checked: { by: string; at: string },
): boolean {
  return recorded.some(
    (s) =>
      s.checklist === checklist && s.item === item && s.checked && s.by === checked.by && s.at === checked.at,
  );
}
