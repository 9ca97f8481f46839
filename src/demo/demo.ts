/**
 * `npm run demo`: the whole discipline on an embedded default. Copies the demo runbook into
 * demo-output/, starts the demo orders service on 127.0.0.1 (realistic latency, an occasional 429 or
 * 500, and a few re-sends it acknowledges but silently loses), then runs the runbook the way an
 * engineer would: check, dry run, announce, small batch, full run, verify, re-backfill the gaps, verify
 * again, report. The service is always stopped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../cli/main';
import { startOrdersService } from './ordersService';

const REPO = path.join(__dirname, '..');
const OUTPUT = path.join(REPO, 'demo-output');

interface Step {
  what: string;
  args: string[];
  /** Exit codes that mean the step went as the runbook expects (1: verification found gaps). */
  expect: number[];
}

async function demo(): Promise<number> {
  const runbook = prepareWorkspace();
  const relative = path.relative(process.cwd(), runbook);
  // The demo runbook authenticates with ${secret:ORDERS_API_TOKEN}; the demo service accepts any token.
  process.env.ORDERS_API_TOKEN ??= 'demo-token-for-the-local-service';
  const service = await startOrdersService({
    latencyMs: 20,
    rate429: 0.02,
    rate500: 0.01,
    losesFirstResendOf: (id) => Number(id.replace(/\D/g, '')) % 50 === 0,
  });
  try {
    process.stdout.write(`Demo orders service listening on ${service.url}\n`);
    const vars = ['--var', `BASE_URL=${service.url}`];
    const report = path.join(OUTPUT, 'demo.report.html');
    const steps: Step[] = [
      { what: 'Validate the runbook', args: ['check', runbook], expect: [0] },
      { what: 'Dry run: read and validate every order, send nothing', args: ['dry-run', runbook, '--cell', 'preview', ...vars], expect: [0] },
      { what: 'Tell the stakeholders', args: ['announce', runbook, '--phase', 'start'], expect: [0] },
      { what: 'Small backfill: the first ten orders', args: ['run', runbook, '--cell', 'small-batch', '--execute', ...vars], expect: [0] },
      { what: 'Full backfill, throttled and checkpointed', args: ['run', runbook, '--cell', 'full', '--execute', ...vars], expect: [0] },
      { what: 'Verify every order’s end state', args: ['run', runbook, '--cell', 'check', ...vars], expect: [0, 1] },
      { what: 'Re-backfill exactly the gaps', args: ['run', runbook, '--cell', 'full', '--execute', '--only', 'unverified', ...vars], expect: [0] },
      { what: 'Verify the gaps again', args: ['run', runbook, '--cell', 'check', '--only', 'unverified', ...vars], expect: [0] },
      { what: 'Write the post-run report', args: ['report', runbook, '--format', 'html', '--out', report], expect: [0] },
      { what: 'Announce that it is done', args: ['announce', runbook, '--phase', 'done'], expect: [0] },
    ]; // prettier-ignore
    for (const step of steps) {
      const shown = step.args.map((a) => (a === runbook ? relative : a)).join(' ');
      process.stdout.write(`\n── ${step.what}\n$ backfill ${shown}\n`);
      const code = await main(['node', 'backfill', ...step.args]);
      if (!step.expect.includes(code)) {
        process.stderr.write(`\nThe demo stopped: that step exited ${code}.\n`);
        return code;
      }
    }
    process.stdout.write(
      `\nDone. The orders service received ${service.received.length} requests; ` +
        `${service.resent.size} orders now have their confirmation re-sent.\n` +
        `The runbook with its embedded results: ${relative}\nThe report: ${path.relative(process.cwd(), report)}\n`,
    );
    return 0;
  } finally {
    await service.stop();
  }
}

/** A fresh copy of the demo runbook and its data, so the demo never changes the repository's runbooks. */
function prepareWorkspace(): string {
  fs.rmSync(OUTPUT, { recursive: true, force: true });
  fs.mkdirSync(OUTPUT, { recursive: true });
  fs.cpSync(path.join(REPO, 'runbooks', 'demo.backfill'), path.join(OUTPUT, 'demo.backfill'));
  fs.cpSync(path.join(REPO, 'runbooks', 'data'), path.join(OUTPUT, 'data'), { recursive: true });
  return path.join(OUTPUT, 'demo.backfill');
}

demo().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${String(error)}\n`);
    process.exitCode = 70;
  },
);
