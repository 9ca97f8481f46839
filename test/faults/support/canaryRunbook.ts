/**
 * A runbook that puts one secret, `${secret:CANARY}`, into every kind of template — URL path and query,
 * headers, a JSON body, a command's argv and environment, a module handler through ctx.secret — and
 * helpers that write the command and module it runs. The command and the handler leave a proof (a hash,
 * never the value) that they really received the secret, and fail for record c002 with the secret in
 * their error message, so the suite can see that error messages are redacted too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CANARY_RECORDS = ['c001', 'c002', 'c003', 'c004', 'c005', 'c006'];

const COMMAND = `import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const record = JSON.parse(input);
  const token = process.argv.find((arg) => arg.startsWith('--token=')).slice('--token='.length);
  const proof = createHash('sha256').update(token + '|' + process.env.TOKEN).digest('hex');
  writeFileSync(join(process.env.PROOF_DIR, 'proof-command-' + record.id + '.txt'), proof);
  if (record.id === 'c002') {
    console.error('authentication failed for token ' + token + ' (header Bearer ' + process.env.TOKEN + ')');
    process.exit(1);
  }
  console.log('sent ' + record.id + ' with ' + token);
});
`;

const MODULE = `import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
export function dryRun(fields, ctx) {
  return { id: fields.id, wouldAuthenticateWith: ctx.secret('CANARY') };
}
export function handler(fields, ctx) {
  const token = ctx.secret('CANARY');
  const proof = createHash('sha256').update(token).digest('hex');
  writeFileSync(join(ctx.env.PROOF_DIR, 'proof-module-' + fields.id + '.txt'), proof);
  if (fields.id === 'c002') throw new Error('the service refused token ' + token);
}
`;

/** Writes `canary.backfill`, its records, the command and the module into `dir`; returns the runbook. */
export function writeCanaryRunbook(dir: string): string {
  fs.writeFileSync(
    path.join(dir, 'records.jsonl'),
    CANARY_RECORDS.map((id) => JSON.stringify({ id, amount: 10 })).join('\n') + '\n',
  );
  fs.writeFileSync(path.join(dir, 'send.mjs'), COMMAND);
  fs.writeFileSync(path.join(dir, 'handler.mjs'), MODULE);
  const job = (id: string, action: string) => `\`\`\`job id=${id}
source: { type: jsonl, path: records.jsonl, key: id, fields: { id: string, amount: number } }
action:
${action}
throttle: { rate: 20, concurrency: 2, retries: 1, timeoutMs: 5000 }
\`\`\`

\`\`\`dry-run id=${id}-preview
job: ${id}
successThreshold: 0
\`\`\`

\`\`\`execute id=${id}-full
job: ${id}
successThreshold: 0
\`\`\`
`;
  const text = `---
title: Canary
name: canary
owner: Tests
environments:
  test:
    vars:
      BASE_URL: http://127.0.0.1:9
      PROOF_DIR: ${dir}
---

Every template below uses the secret CANARY; it must never be written or printed anywhere.

${job(
  'web',
  `  type: http
  method: POST
  url: \${env:BASE_URL}/items/\${secret:CANARY}/\${record:id}?token=\${secret:CANARY}&id=\${record:id}
  headers:
    Authorization: Bearer \${secret:CANARY}
    X-Api-Key: \${secret:CANARY}
  body:
    id: \${record:id}
    token: \${secret:CANARY}
    nested: { note: "signed with \${secret:CANARY}" }`,
)}
${job(
  'shell',
  `  type: command
  argv: [node, send.mjs, "--token=\${secret:CANARY}"]
  env: { TOKEN: "\${secret:CANARY}", PROOF_DIR: "\${env:PROOF_DIR}" }`,
)}
${job(
  'code',
  `  type: module
  path: handler.mjs`,
)}`;
  const file = path.join(dir, 'canary.backfill');
  fs.writeFileSync(file, text);
  return file;
}
