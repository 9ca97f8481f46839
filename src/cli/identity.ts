/**
 * Who is acting on the command line (`run`, `dry-run`, `sign`, `new`): reads the sources the core's one
 * rule names (src/core/model/identity.ts) — `--as`, BACKFILL_OPERATOR, git in the runbook's folder, the
 * OS account — and lets the core decide. Git is asked only when the flag and the variable name no one.
 */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { decideIdentity, OPERATOR_VARIABLE } from '../core/model/identity';

/** Who is acting on the runbook `file` (or in the folder a new runbook goes to); `as` is `--as`. */
export function whoIsActing(file: string, as?: string): string {
  const folder = path.dirname(path.resolve(file));
  return decideIdentity({
    explicit: as,
    operatorVariable: process.env[OPERATOR_VARIABLE],
    gitName: () => gitConfig(folder, 'user.name'),
    gitEmail: () => gitConfig(folder, 'user.email'),
    osUser: osUserName,
  });
}

function gitConfig(cwd: string, key: string): string | undefined {
  try {
    return execFileSync('git', ['config', key], {
      cwd,
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined; // No git, no such folder, or the key is not set.
  }
}

function osUserName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined; // A uid with no passwd entry (some containers).
  }
}
