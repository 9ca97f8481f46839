import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allFiles, runCli, tempDir, type CliResult } from '../support/cli';
import { startCli, waitFor } from '../support/cliProcess';
import { CANARY_RECORDS, writeCanaryRunbook } from './support/canaryRunbook';
import { FaultTarget } from './support/faultTarget';
import { freePort } from '../support/freePort';

/** Characters that URL-encode, and a core ("S3cr3t") to catch a secret cut in half by a truncation. */
const CANARY = 'canaryQ7Zx+S3cr3t/W9=';
const FORMS = [
  CANARY,
  encodeURIComponent(CANARY),
  new URLSearchParams({ v: CANARY }).toString().slice(2),
  Buffer.from(CANARY).toString('base64'),
  'S3cr3t',
];

function leaks(text: string | Buffer): string[] {
  const haystack = typeof text === 'string' ? Buffer.from(text) : text;
  return FORMS.filter((form) => haystack.includes(form));
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
