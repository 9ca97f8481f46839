/**
 * Cryptographic sign-offs with the stakeholder's own SSH key, through `ssh-keygen -Y sign` and
 * `ssh-keygen -Y verify` — the mechanism git uses for signed commits, so no new key or tool is needed.
 * This file cannot depend on the vscode API.
 *
 * What is signed is a short text naming the runbook, the item, the signer, the time and the plan hash,
 * so a signature cannot be moved to another item, another signer, or a changed plan.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The signature namespace: a signature made for anything else (git, a file) does not verify here. */
export const SIGN_OFF_NAMESPACE = 'backfill-signoff';

export interface SignedFields {
  runbook: string;
  checklist: string;
  item: string;
  by: string;
  at: string;
  plan: string;
}

/** The exact text a sign-off's signature covers. */
export function signOffMessage(fields: SignedFields): string {
  return [
    'backfill sign-off',
    `runbook: ${fields.runbook}`,
    `checklist: ${fields.checklist}`,
    `item: ${fields.item}`,
    `by: ${fields.by}`,
    `at: ${fields.at}`,
    `plan: ${fields.plan}`,
    '',
  ].join('\n');
}

/**
 * Signs `message` with the key at `keyFile` (a private key, or a public key whose private half is in
 * ssh-agent). Returns the signature as one line of base64 (the armour lines dropped), or throws an
 * Error saying what went wrong.
 */
export function sshSign(message: string, keyFile: string): string {
  const result = spawnSync('ssh-keygen', ['-q', '-Y', 'sign', '-f', keyFile, '-n', SIGN_OFF_NAMESPACE], {
    input: message,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (result.error) throw new Error(`cannot run ssh-keygen: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`ssh-keygen could not sign with ${keyFile}: ${firstLine(result.stderr)}`);
  }
  return result.stdout
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('-----'))
    .join('');
}

export type Verification = { ok: true } | { ok: false; reason: string };

/** Checks a one-line signature from {@link sshSign} of `message` against one public key. */
export function sshVerify(message: string, signature: string, publicKey: string): Verification {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-verify-'));
  try {
    const allowed = path.join(dir, 'allowed_signers');
    const signatureFile = path.join(dir, 'signature');
    // The principal is internal to this file: the key is what identifies the stakeholder.
    fs.writeFileSync(allowed, `signer namespaces="${SIGN_OFF_NAMESPACE}" ${publicKey.trim()}\n`);
    fs.writeFileSync(signatureFile, armour(signature));
    const result = spawnSync(
      'ssh-keygen',
      ['-Y', 'verify', '-f', allowed, '-I', 'signer', '-n', SIGN_OFF_NAMESPACE, '-s', signatureFile],
      { input: message, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] },
    );
    if (result.error) return { ok: false, reason: `cannot run ssh-keygen: ${result.error.message}` };
    return result.status === 0
      ? { ok: true }
      : { ok: false, reason: firstLine(result.stderr || result.stdout) || 'the signature does not verify' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function armour(signature: string): string {
  const lines = signature.replace(/\s+/g, '').match(/.{1,70}/g) ?? [];
  return ['-----BEGIN SSH SIGNATURE-----', ...lines, '-----END SSH SIGNATURE-----', ''].join('\n');
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
