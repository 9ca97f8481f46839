/**
 * Who is acting: one rule for everything a runbook records about a person — a sign-off's `by`, a run's,
 * a dry run's and an attempt's `operator` — in the editor and on the command line alike. This file is
 * pure: each front end reads what it can (a flag or setting, the environment, git, the OS account) and
 * this decides.
 *
 * The most explicit source wins:
 * 1. a name given for this action (`--as` on the command line, `backfill.checklists.signOffAs` in the
 *    editor);
 * 2. `BACKFILL_OPERATOR`, set by whoever starts the tool: a CI job, a wrapper script on a bastion host, or
 *    the editor starting its runner process with the identity it decided;
 * 3. git's `user.name` in the runbook's folder, else its `user.email`: the name a person's commits of
 *    the runbook carry;
 * 4. the OS account.
 *
 * A source may be given as a function: it is read only when every source before it names no one, so a
 * front end asks git nothing when a flag or the variable already decided.
 */

/** The environment variable that names who is acting (rule 2). */
export const OPERATOR_VARIABLE = 'BACKFILL_OPERATOR';

/** When no source names anyone (no flag, variable, git identity or readable OS account). */
export const UNKNOWN_IDENTITY = 'unknown';

/** One source: its value, or how to read it when it is needed. */
export type IdentitySource = string | undefined | (() => string | undefined);

/** What a front end knows about who is acting; blank values count as missing. */
export interface IdentitySources {
  /** A name given for this very action: `--as`, or the `backfill.checklists.signOffAs` setting. */
  explicit?: IdentitySource;
  /** The value of BACKFILL_OPERATOR. */
  operatorVariable?: IdentitySource;
  /** `git config user.name` in the runbook's folder. */
  gitName?: IdentitySource;
  /** `git config user.email` in the runbook's folder. */
  gitEmail?: IdentitySource;
  /** The OS account's user name. */
  osUser?: IdentitySource;
}

/** Decides who is acting from what the front end read: the first source that names someone. */
export function decideIdentity(sources: IdentitySources): string {
  const ordered = [
    sources.explicit,
    sources.operatorVariable,
    sources.gitName,
    sources.gitEmail,
    sources.osUser,
  ];
  for (const source of ordered) {
    const name = (typeof source === 'function' ? source() : source)?.trim();
    if (name) return name;
  }
  return UNKNOWN_IDENTITY;
}
