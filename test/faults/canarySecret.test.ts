import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { allFiles, runCli, tempDir, type CliResult } from '../support/cli';
import { startCli, waitFor } from '../support/cliProcess';
import { CANARY_RECORDS, writeCanaryRunbook } from './support/canaryRunbook';
import { FaultTarget } from './support/faultTarget';

/** Characters that URL-encode, and a core ("S3cr3t") to catch a secret cut in half by a truncation. */
const CANARY = 'canaryQ7Zx+S3cr3t/W9=';
const FORMS = [
  CANARY,
  encodeURIComponent(CANARY),
  new URLSearchParams({ v: CANARY }).toString().slice(2),
  Buffer.from(CANARY).toString('base64'),
  'S3cr3t',
  // The piece of the secret before a cut: what a redaction after truncation let through.
  CANARY.slice(0, 10),
];

/** Error bodies are quoted up to 300 characters: this puts the first 14 of the secret's at the cut. */
const CUT_AT = 300;

function leaks(text: string | Buffer): string[] {
  const haystack = typeof text === 'string' ? Buffer.from(text) : text;
  return FORMS.filter((form) => haystack.includes(form));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('a canary secret used in every kind of template', function () {
  this.timeout(90_000);
  let work: ReturnType<typeof tempDir>;
  let target: FaultTarget;

  beforeEach(async () => {
    work = tempDir('backfill-canary-');
    // Errors echo the request back, Authorization header and URL included, as careless services do.
    target = await FaultTarget.start((request, _n, attempt) => {
      const echo = JSON.stringify({ authorization: request.headers.authorization, url: request.url });
      if (request.key === 'c003') return { status: 500, body: `upstream failed for ${echo}` };
      if (request.key === 'c004') return { status: 400, body: `bad request ${echo}` };
      if (request.key === 'c005' && attempt === 1) return { status: 429, body: `slow down ${echo}` };
      if (request.key === 'c006') {
        const authorization = request.headers.authorization ?? '';
        const padding = 'x'.repeat(CUT_AT - 'Bearer '.length - 14);
        return { status: 500, body: `${padding}${authorization} and more` };
      }
      return { body: `ok ${echo}` };
    });
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  it('never appears in any file, event, metric, report, announcement or anything printed', async () => {
    const file = writeCanaryRunbook(work.dir);
    const env = { CANARY };
    const vars = ['--var', `BASE_URL=${target.url}`];
    const printed: { what: string; result: CliResult }[] = [];
    const cli = async (what: string, args: string[]) => {
      const result = await runCli(args, { env });
      printed.push({ what, result });
      return result;
    };

    await cli('check', ['check', file]);
    for (const json of [[], ['--json']]) {
      const dryRun = await cli(`dry-run ${json.join('')}`, ['dry-run', file, ...vars, ...json]);
      assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    }

    // The HTTP run, watched the way an operator would: events, metrics, and the state folder mid-run.
    const events = path.join(work.dir, 'events.jsonl');
    const port = await freePort();
    const web = startCli(
      [
        'run',
        file,
        '--cell',
        'web-full',
        ...vars,
        '--execute',
        '--events',
        events,
        '--metrics-port',
        `${port}`,
      ],
      env,
    );
    const midRun: { file: string; bytes: Buffer }[] = [];
    let metrics = '';
    const snapshot = setInterval(() => {
      for (const f of fs.existsSync(`${file}.d`) ? allFiles(`${file}.d`) : []) {
        try {
          midRun.push({ file: f, bytes: fs.readFileSync(f) });
        } catch {
          // renamed away between listing and reading
        }
      }
    }, 50);
    try {
      await waitFor(() => target.received.length >= 3, 'the first requests');
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      metrics = await response.text();
      assert.match(metrics, /backfill_/);
    } finally {
      await web.exited;
      clearInterval(snapshot);
    }
    printed.push({
      what: 'run web-full',
      result: { code: await web.exited, stdout: web.stdout(), stderr: web.stderr() },
    });
    assert.equal(await web.exited, 0, web.stdout() + web.stderr());

    const shell = await cli('run shell-full --detach', [
      'run',
      file,
      '--cell',
      'shell-full',
      ...vars,
      '--execute',
      '--detach',
    ]);
    assert.equal(shell.code, 0, shell.stderr);
    await waitFor(
      () => fs.existsSync(path.join(work.dir, 'proof-command-c006.txt')),
      'the detached run',
      30_000,
    );
    await waitFor(() => !fs.existsSync(path.join(`${file}.d`, 'lock')), 'the detached run to finish', 30_000);
    const code = await cli('run code-full', ['run', file, '--cell', 'code-full', ...vars, '--execute']);
    assert.equal(code.code, 0, code.stdout + code.stderr);

    await cli('status', ['status', file]);
    await cli('status --json', ['status', file, '--json']);
    await cli('ledger csv', ['ledger', file]);
    await cli('ledger jsonl', ['ledger', file, '--format', 'jsonl']);
    await cli('ledger failed', ['ledger', file, '--status', 'failed', '--format', 'jsonl']);
    await cli('report html', ['report', file]);
    await cli('report md', ['report', file, '--format', 'md']);
    await cli('announce start', ['announce', file, '--phase', 'start']);
    await cli('announce done', ['announce', file, '--phase', 'done']);

    // The secret really was used: the target, the command and the handler all received it.
    const first = target.received[0]!;
    assert.equal(first.headers.authorization, `Bearer ${CANARY}`);
    assert.equal(first.headers['x-api-key'], CANARY);
    assert.ok(first.url.includes(encodeURIComponent(CANARY)), first.url);
    assert.equal(JSON.parse(first.body).token, CANARY);
    for (const id of CANARY_RECORDS) {
      assert.equal(
        fs.readFileSync(path.join(work.dir, `proof-command-${id}.txt`), 'utf8'),
        sha256(`${CANARY}|${CANARY}`),
      );
      assert.equal(fs.readFileSync(path.join(work.dir, `proof-module-${id}.txt`), 'utf8'), sha256(CANARY));
    }
    // ...and the failures whose messages carried it were recorded, redacted.
    const failed = printed.find((p) => p.what === 'ledger failed')!.result.stdout;
    for (const needle of ['[redacted:CANARY]', 'authentication failed', 'refused token', 'upstream failed']) {
      assert.ok(failed.includes(needle), `the failures are recorded (${needle}):\n${failed}`);
    }

    const files = allFiles(work.dir);
    for (const name of ['ledger.sqlite', 'status.json', 'control.json', 'run.log', 'journal.jsonl']) {
      assert.ok(
        files.some((f) => path.basename(f) === name),
        `${name} was written and is checked`,
      );
    }
    assert.ok(files.some((f) => /\.report\.html$/.test(f)) && files.some((f) => /\.report\.md$/.test(f)));
    assert.ok(
      midRun.some((s) => s.file.endsWith('journal.jsonl') && s.bytes.length > 0),
      'a non-empty journal was seen',
    );

    const found: string[] = [];
    for (const f of files) for (const form of leaks(fs.readFileSync(f))) found.push(`${f} holds ${form}`);
    for (const s of midRun)
      for (const form of leaks(s.bytes)) found.push(`${s.file} (mid-run) holds ${form}`);
    for (const form of leaks(metrics)) found.push(`the metrics endpoint shows ${form}`);
    for (const { what, result } of printed) {
      for (const form of leaks(result.stdout)) found.push(`stdout of ${what} shows ${form}`);
      for (const form of leaks(result.stderr)) found.push(`stderr of ${what} shows ${form}`);
    }
    assert.deepEqual([...new Set(found)], []);
  });
});

/** A secret with no common four-character piece, so any piece of it found on disk is a leak. */
const CUT_SECRET = 'Qz7kCUTxW9vJ';

/** Every piece of {@link CUT_SECRET} a cut can leave: its starts and ends of four characters or more. */
function cutPieces(text: string | Buffer): string[] {
  const haystack = typeof text === 'string' ? Buffer.from(text) : text;
  const pieces: string[] = [];
  for (let n = 4; n <= CUT_SECRET.length; n++) pieces.push(CUT_SECRET.slice(0, n), CUT_SECRET.slice(-n));
  return pieces.filter((piece) => haystack.includes(piece));
}

describe('a secret a command prints at the start of its cut stderr', function () {
  this.timeout(90_000);
  let work: ReturnType<typeof tempDir>;

  beforeEach(() => {
    work = tempDir('backfill-canary-cut-');
  });
  afterEach(() => work.cleanup());

  it('leaves no piece of it in any file or output, from a command action or a command check', async () => {
    // The secret, then PAD characters, on stderr: the kept tail (500 bytes), and the quoted end of it
    // (200 characters for a check), start inside the secret for some of the paddings.
    fs.writeFileSync(
      path.join(work.dir, 'fail.sh'),
      `#!/bin/sh\nprintf '%s' "$TOKEN" >&2\nprintf "%$1s" '' | tr ' ' y >&2\nexit $2\n`,
      { mode: 0o755 },
    );
    const pads = [...Array(16).keys()].flatMap((i) => [185 + i, 485 + i]);
    fs.writeFileSync(
      path.join(work.dir, 'records.jsonl'),
      pads.map((pad) => JSON.stringify({ id: `p${pad}`, pad })).join('\n') + '\n',
    );
    const file = path.join(work.dir, 'cut.backfill');
    fs.writeFileSync(
      file,
      `---
title: Cut
name: cut
owner: Tests
environments:
  test:
    production: false
---

\`\`\`job id=items
source: { type: jsonl, path: records.jsonl, key: id, fields: { id: string, pad: integer } }
action:
  type: command
  argv: [./fail.sh, "\${record:pad}", "1"]
  env: { TOKEN: "\${secret:TOKEN}" }
throttle: { rate: 200, concurrency: 4, retries: 0, timeoutMs: 5000 }
\`\`\`

\`\`\`execute id=full
job: items
successThreshold: 0
\`\`\`

\`\`\`verify id=check
job: items
check:
  type: command
  argv: [./fail.sh, "\${record:pad}", "3"]
  env: { TOKEN: "\${secret:TOKEN}" }
\`\`\`
`,
    );
    const env = { TOKEN: CUT_SECRET };
    const printed: CliResult[] = [];
    const cli = async (args: string[]) => {
      const result = await runCli(args, { env, cwd: work.dir });
      printed.push(result);
      return result;
    };
    const run = await cli(['run', file, '--cell', 'full', '--execute']);
    assert.notEqual(run.code, 70, run.stdout + run.stderr);
    const verify = await cli(['run', file, '--cell', 'check']);
    assert.notEqual(verify.code, 70, verify.stdout + verify.stderr);
    const failed = await cli(['ledger', file, '--format', 'jsonl']);
    await cli(['status', file, '--json']);
    await cli(['report', file, '--format', 'md']);

    // The commands really printed the secret, and their messages quote the cut stderr.
    const rows = failed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const failures = rows.filter((row) => row.cell === 'full' && row.status === 'failed');
    const mismatches = rows.filter((row) => row.cell === 'check' && row.status === 'mismatch');
    assert.equal(failures.length, pads.length, failed.stdout);
    assert.equal(mismatches.length, pads.length, failed.stdout);
    assert.ok(
      failures.some((row) => /^exit code 1: …\[redacted:TOKEN\]y+$/.test(String(row.lastError))),
      'a failure quotes the end of the secret, redacted',
    );

    const found: string[] = [];
    for (const f of allFiles(work.dir)) {
      for (const piece of cutPieces(fs.readFileSync(f))) found.push(`${f} holds ${piece}`);
    }
    for (const [i, result] of printed.entries()) {
      for (const piece of cutPieces(result.stdout + result.stderr))
        found.push(`the output of command ${i} shows ${piece}`);
    }
    assert.deepEqual([...new Set(found)], []);
  });
});
