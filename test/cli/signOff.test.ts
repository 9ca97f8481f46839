import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadRunbook } from '../../src/cli/loadRunbook';
import { planHash } from '../../src/core/signoff/signOffPlan';
import { signOffMessage, sshSign } from '../../src/core/signoff/sshSignature';
import { runCli, tempDir } from '../support/cli';
import { writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

const ITEM = 'owner-approves';

/** A throw-away ed25519 key pair; returns the private key's path and the public key line. */
function makeKey(dir: string, name: string): { file: string; publicKey: string } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  return { file, publicKey: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
}

describe('backfill sign and the sign-off gate', function () {
  this.timeout(120_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;

  before(function () {
    try {
      execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error('ssh-keygen is missing: apt-get install -y openssh-client (.ci/run does)');
      }
    }
  });
  beforeEach(async () => {
    work = tempDir();
    target = await startTargetServer();
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  function setUp(headerExtra = '') {
    const file = writeFixtureRunbook(work.dir, {
      records: 5,
      production: true,
      requiredItem: 'unchecked',
      headerExtra,
    });
    const vars = ['--env', 'prod', '--var', `BASE_URL=${target.url}`];
    return {
      file,
      sign: (...flags: string[]) => runCli(['sign', file, '--item', ITEM, ...flags]),
      dryRun: () => runCli(['dry-run', file, ...vars]),
      produce: () =>
        runCli(['run', file, '--cell', 'full', ...vars, '--production', '--confirm', 'fixture-job']),
    };
  }

  it('signs from the command line, asking before signing an item someone else owns', async () => {
    const { file, sign } = setUp();
    const before = fs.readFileSync(file, 'utf8');

    const notOwner = await sign('--as', 'Mallory');
    assert.equal(notOwner.code, 2);
    assert.match(notOwner.stderr, /is owned by Grace\. Sign it off as Mallory\? Pass --yes/);
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'nothing written without confirmation');

    const confirmed = await sign('--as', 'Mallory', '--yes');
    assert.equal(confirmed.code, 0, confirmed.stderr);
    const after = fs.readFileSync(file, 'utf8');
    const line =
      / {2}checked: \{ by: "Mallory", at: "[^"]+", plan: "((?:[0-9a-f]{12}-){3}[0-9a-f]{12})" \}\n/.exec(
        after,
      );
    assert.ok(line, after);
    assert.equal(after.replace(line[0], ''), before, 'one added line, every other byte as it was');

    const owner = await sign('--as', 'Grace');
    assert.equal(owner.code, 0, owner.stderr);
    const resigned = fs.readFileSync(file, 'utf8');
    assert.equal((resigned.match(/checked:/g) ?? []).length, 1, 'a new sign-off replaces the earlier one');
    assert.match(resigned, /checked: \{ by: "Grace"/);
  });

  it('names the checklists to choose from when the item is in several, not a placeholder', async () => {
    const file = writeFixtureRunbook(work.dir, {
      records: 5,
      requiredItem: 'unchecked',
      extraCells: '```checklist id=go-live\n- item: Owner approves\n  owner: Grace\n```\n',
    });
    const before = fs.readFileSync(file, 'utf8');
    const ambiguous = await runCli(['sign', file, '--item', ITEM, '--as', 'Grace']);
    assert.equal(ambiguous.code, 2, ambiguous.stdout + ambiguous.stderr);
    assert.match(
      ambiguous.stderr,
      /is in several checklists \(sign-off, go-live\): add --checklist sign-off or --checklist go-live/,
    );
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    const chosen = await runCli(['sign', file, '--item', ITEM, '--as', 'Grace', '--checklist', 'go-live']);
    assert.equal(chosen.code, 0, chosen.stderr);
  });

  it('refuses a sign-off copied onto another item, or typed by hand with a plausible hash, at its line', async () => {
    const { file, sign, dryRun, produce } = setUp();
    // A second required item, owned by Carol.
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, 'utf8')
        .replace(
          '  required: true\n```',
          '  required: true\n- item: Ops approves\n  owner: Carol\n  required: true\n```',
        ),
    );
    assert.equal((await sign('--as', 'Grace')).code, 0);
    assert.equal((await dryRun()).code, 0);
    const signed = fs.readFileSync(file, 'utf8');
    const graceLine = /\n( {2}checked: \{ by: "Grace"[^\n]*)\n/.exec(signed)![1]!;

    // Grace's line copied onto Carol's item, only `by` changed.
    const copied = signed.replace(
      '  owner: Carol\n  required: true\n',
      `  owner: Carol\n  required: true\n${graceLine.replace('by: "Grace"', 'by: "Carol"')}\n`,
    );
    fs.writeFileSync(file, copied);
    const refusedCopy = await produce();
    assert.equal(refusedCopy.code, 4, refusedCopy.stdout + refusedCopy.stderr);
    const copyLine = copied.split('\n').findIndex((l) => l.includes('by: "Carol"')) + 1;
    assert.match(
      refusedCopy.stderr,
      new RegExp(
        `job\\.backfill:${copyLine}: checklist sign-off: item ops-approves: this sign-off was made for another item or signer \\(copied by hand\\?\\), so it approves nothing: Carol signs it \\(backfill sign \\S+job\\.backfill --item ops-approves --as "Carol"\\)`,
      ),
    );
    assert.doesNotMatch(refusedCopy.stderr, /item owner-approves/, "Grace's own sign-off holds");

    // Typed by hand with the very hash backfill would write for Carol: the ledger has no such sign-off.
    const runbook = loadRunbook(file);
    const checklist = runbook.cells.find((c) => c.kind === 'checklist')!;
    if (checklist.kind !== 'checklist') throw new Error('no checklist');
    const plan = planHash(runbook, checklist, { item: 'ops-approves', by: 'Carol' });
    const typed = signed.replace(
      '  owner: Carol\n  required: true\n',
      `  owner: Carol\n  required: true\n  checked: { by: "Carol", at: "2026-12-06T10:00:00.000Z", plan: "${plan}" }\n`,
    );
    fs.writeFileSync(file, typed);
    const refusedTyped = await produce();
    assert.equal(refusedTyped.code, 4);
    assert.match(
      refusedTyped.stderr,
      /item ops-approves: the ledger has no sign-off of this item by Carol at 2026-12-06T10:00:00\.000Z \(typed or copied by hand, or signed against another ledger\?\), so it approves nothing: Carol signs it \(backfill sign \S+ --item ops-approves --as "Carol"\)/,
    );
    assert.equal(target.arrivals.length, 0, 'nothing sent while refused');

    // Carol signs for real: the gate opens.
    fs.writeFileSync(file, signed);
    const carol = await runCli(['sign', file, '--item', 'ops-approves', '--as', 'Carol']);
    assert.equal(carol.code, 0, carol.stderr);
    const proceeds = await produce();
    assert.equal(proceeds.code, 0, proceeds.stdout + proceeds.stderr);
    assert.equal(target.countsByKey().size, 5);
  });

  it('refuses production when the plan changed after the sign-off, saying which and why', async () => {
    const { file, sign, dryRun, produce } = setUp();
    assert.equal((await sign('--as', 'Grace')).code, 0);
    assert.equal((await dryRun()).code, 0);

    // The execute cell's threshold changes after Grace signed: what she approved is not what would run.
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('successThreshold: 0.5', 'successThreshold: 0.1'),
    );
    const stale = await produce();
    assert.equal(stale.code, 4);
    assert.match(
      stale.stderr,
      /sign-offs that do not hold:\n {2}\S+job\.backfill:\d+: checklist sign-off: item owner-approves: signed off by Grace at \S+, but the execute cells \(subset, throttle or threshold\) changed since: Grace signs it again/,
    );
    assert.equal(target.arrivals.length, 0, 'nothing sent while refused');

    assert.equal((await sign('--as', 'Grace')).code, 0);
    const proceeds = await produce();
    assert.equal(proceeds.code, 0, proceeds.stdout + proceeds.stderr);
    assert.equal(target.countsByKey().size, 5);
  });

  it('with requireSignedSignOffs, refuses unsigned, forged and stale signatures, and accepts the signer’s own', async () => {
    const grace = makeKey(work.dir, 'grace');
    const mallory = makeKey(work.dir, 'mallory');
    const header =
      'requireSignedSignOffs: true\n' +
      `stakeholders:\n  - name: Grace\n    key: ${grace.publicKey}\n  - name: Mallory\n    key: ${mallory.publicKey}\n`;
    const { file, sign, dryRun, produce } = setUp(header);
    assert.equal((await dryRun()).code, 0);

    const unsignedRefused = await sign('--as', 'Grace');
    assert.equal(unsignedRefused.code, 2);
    assert.match(unsignedRefused.stderr, /requires signed sign-offs: sign with your SSH key: --key/);

    const wrongKey = await sign('--as', 'Grace', '--key', mallory.file);
    assert.equal(wrongKey.code, 2);
    assert.match(wrongKey.stderr, /is not the key the header lists for Grace/);

    // Hand-edited: a plan hash copied in, no signature.
    const signed = await sign('--as', 'Grace', '--key', grace.file);
    assert.equal(signed.code, 0, signed.stderr);
    const good = fs.readFileSync(file, 'utf8');
    const unsigned = good.replace(/, signature: "[^"]+"/, '');
    fs.writeFileSync(file, unsigned);
    const refusedUnsigned = await produce();
    assert.equal(refusedUnsigned.code, 4);
    assert.match(
      refusedUnsigned.stderr,
      /job\.backfill:\d+: checklist sign-off: item owner-approves: the runbook requires signed sign-offs and Grace's is not signed/,
    );

    // Forged: Mallory signs the very text of Grace's sign-off with her own key and writes it in.
    const fields = /checked: \{ by: "Grace", at: "([^"]+)", plan: "([^"]+)"/.exec(good)!;
    const forgedSignature = sshSign(
      signOffMessage({
        runbook: 'fixture-job',
        checklist: 'sign-off',
        item: ITEM,
        by: 'Grace',
        at: fields[1]!,
        plan: fields[2]!,
      }),
      mallory.file,
    );
    fs.writeFileSync(file, good.replace(/signature: "[^"]+"/, `signature: "${forgedSignature}"`));
    const forged = await produce();
    assert.equal(forged.code, 4);
    assert.match(
      forged.stderr,
      /item owner-approves: the signature is not Grace's signature of this sign-off/,
    );

    // Stale: the plan changes, and the recorded plan hash is edited to match it; the signature no longer does.
    fs.writeFileSync(file, good.replace('rate: 1000', 'rate: 900'));
    const stalePlan = await produce();
    assert.equal(stalePlan.code, 4);
    assert.match(stalePlan.stderr, /signed off by Grace at \S+, but the job definitions changed since/);
    assert.equal((await sign('--as', 'Grace', '--key', grace.file)).code, 0);
    const currentPlan = /plan: "([^"]+)"/.exec(fs.readFileSync(file, 'utf8'))![1]!;
    fs.writeFileSync(file, good.replace('rate: 1000', 'rate: 900').replace(fields[2]!, currentPlan));
    const replayed = await produce();
    assert.equal(replayed.code, 4);
    assert.match(replayed.stderr, /the signature is not Grace's signature of this sign-off/);
    assert.equal(target.arrivals.length, 0, 'nothing sent while refused');

    fs.writeFileSync(file, good);
    const proceeds = await produce();
    assert.equal(proceeds.code, 0, proceeds.stdout + proceeds.stderr);
    assert.equal(target.countsByKey().size, 5, 'every record received once the signed sign-off holds');
  });
});
