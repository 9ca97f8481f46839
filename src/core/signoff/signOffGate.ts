/**
 * Which required sign-offs hold, for the production gate. This file cannot depend on the vscode API.
 *
 * A required item holds when it is checked, its recorded plan hash is the plan now (so a sign-off typed
 * by hand, without one, or given before the plan changed does not hold), and — when the header says
 * `requireSignedSignOffs: true` — its signature verifies against the signer's key in `stakeholders`.
 */
import { checklistItemId, type Runbook } from '../format/runbook';
import { planChanges, planHash } from './signOffPlan';
import { signOffMessage, sshVerify } from './sshSignature';

/** One required item whose sign-off does not hold, with a located message saying why and what to do. */
export interface SignOffProblem {
  checklist: string;
  item: string;
  owner: string;
  /** 'unchecked' | 'no-plan' | 'stale' | 'unsigned' | 'unknown-key' | 'bad-signature' */
  kind: 'unchecked' | 'no-plan' | 'stale' | 'unsigned' | 'unknown-key' | 'bad-signature';
  /** `FILE:LINE: checklist ID: item ID: why — what to do`. */
  message: string;
}

/** Every required sign-off that does not hold, in the order of the runbook. */
export function signOffProblems(runbook: Runbook): SignOffProblem[] {
  const problems: SignOffProblem[] = [];
  const keys = new Map(runbook.header.stakeholders.flatMap((s) => (s.key ? [[s.name, s.key]] : [])));
  for (const cell of runbook.cells) {
    if (cell.kind !== 'checklist') continue;
    const plan = planHash(runbook, cell);
    cell.spec.forEach((item, index) => {
      if (!item.required) return;
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
      if (checked.plan !== plan) {
        const why = planChanges(checked.plan, plan).join(', ');
        return at(
          ['checked'],
          'stale',
          `signed off by ${checked.by} at ${checked.at}, but ${why} since: ${checked.by} signs it again (${sign})`,
        );
      }
      if (!runbook.header.requireSignedSignOffs) return;
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
