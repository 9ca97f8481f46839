import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ExitCode } from '../../src/cli/exitCodes';
import { REPO, runCli, tempDir } from '../support/cli';
import { LEDGER_SECRET } from '../support/sharedLedgerRunbook';
import { workerArgs, workerEnvironment } from '../support/workerCommand';

const DEPLOY = path.join(REPO, 'deploy');
const RUNBOOK = path.join(DEPLOY, 'example', 'orders.backfill');

interface JobManifest {
  kind: string;
  spec: {
    completionMode: string;
    completions: number;
    parallelism: number;
    podFailurePolicy: { rules: { action: string; onExitCodes?: { values: number[] } }[] };
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: {
        containers: {
          command: string[];
          ports?: { name: string; containerPort: number; protocol?: string }[];
          workingDir: string;
          env: {
            name: string;
            value?: string;
            valueFrom?: { secretKeyRef?: { name: string; key: string } };
          }[];
          volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
        }[];
        volumes: { name: string; configMap?: object; emptyDir?: object }[];
      };
    };
  };
}

describe('deploy/', () => {
  it('ships an example runbook that backfill accepts, its ledger URL a secret of the name the tests use', async () => {
    const check = await runCli(['check', RUNBOOK]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const header = parse(fs.readFileSync(RUNBOOK, 'utf8').split('---')[1]!) as {
      environments: Record<string, { ledger?: { type: string; url: string } }>;
    };
    assert.deepEqual(header.environments.production?.ledger, {
      type: 'postgres',
      url: `\${secret:${LEDGER_SECRET}}`,
    });
  });

  it('runs the worker command line in the Kubernetes Indexed Job, the ledger URL from a Secret', () => {
    const job = parse(
      fs.readFileSync(path.join(DEPLOY, 'kubernetes', 'backfill-workers.yaml'), 'utf8'),
    ) as JobManifest;
    assert.equal(job.kind, 'Job');
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.parallelism, job.spec.completions);
    const [container] = job.spec.template.spec.containers;
    const { volumes } = job.spec.template.spec;
    const mountOf = (kind: 'configMap' | 'emptyDir') =>
      container!.volumeMounts.find((mount) => volumes.find((v) => v.name === mount.name)?.[kind]);
    const mount = mountOf('configMap')!.mountPath;
    const metricsPort = container!.ports?.find((port) => port.name === 'metrics');
    assert.ok(metricsPort, 'the container names its metrics port');
    // On every interface of the pod: Prometheus connects to the pod's IP, which 127.0.0.1 is not.
    assert.deepEqual(container!.command, [
      'backfill',
      ...workerArgs(`${mount}/${path.basename(RUNBOOK)}`, 'resend', 'production', {
        host: '0.0.0.0',
        port: String(metricsPort.containerPort),
      }),
    ]);
    assert.deepEqual(job.spec.template.metadata.annotations, {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(metricsPort.containerPort),
      'prometheus.io/path': '/metrics',
    });
    // Exactly the variables the deployed-worker test runs with: the secret, from a Secret (no URL in the
    // manifest), and the state folder in a writable emptyDir, the runbook's ConfigMap being read-only.
    const state = mountOf('emptyDir');
    assert.ok(state && !state.readOnly, 'the state folder is a writable emptyDir');
    const expected = workerEnvironment('(from the Secret)', state.mountPath);
    assert.deepEqual(
      container!.env.map((variable) => [variable.name, variable.value, !!variable.valueFrom?.secretKeyRef]),
      Object.entries(expected).map(([name, value]) =>
        name === LEDGER_SECRET ? [name, undefined, true] : [name, value, false],
      ),
    );
    // Invalid input, a stop or a refusal fails the Job rather than restarting into the same answer.
    const failJob = job.spec.podFailurePolicy.rules.find((rule) => rule.action === 'FailJob');
    assert.deepEqual(failJob?.onExitCodes?.values, [
      ExitCode.invalid,
      ExitCode.haltedResumable,
      ExitCode.refused,
    ]);
  });

  it('runs the same command line from the systemd unit, the URL from an EnvironmentFile', () => {
    const unit = fs.readFileSync(path.join(DEPLOY, 'systemd', 'backfill-worker@.service'), 'utf8');
    const setting = (name: string) => unit.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];
    // Metrics on every interface, on the port the instance is named after (backfill-worker@9464), so
    // two instances on one host do not collide.
    assert.deepEqual(setting('ExecStart')?.split(' '), [
      '/usr/bin/env',
      'backfill',
      ...workerArgs('/srv/backfill/orders.backfill', 'resend', 'production', { host: '0.0.0.0', port: '%i' }),
    ]);
    assert.ok(setting('EnvironmentFile'));
    // The rest of the worker's environment: its state folder in the instance's StateDirectory, as
    // /srv/backfill is read-only (ReadOnlyPaths=) to the DynamicUser.
    assert.match(unit, /^ReadOnlyPaths=\/srv\/backfill$/m);
    assert.equal(setting('StateDirectory'), 'backfill/%i');
    const environment = Object.fromEntries(
      [...unit.matchAll(/^Environment=([^=]+)=(.*)$/gm)].map((match) => [match[1], match[2]]),
    );
    // LEDGER_URL comes from the EnvironmentFile; everything else is set in the unit.
    const expected = workerEnvironment('', '/var/lib/backfill/%i');
    delete expected[LEDGER_SECRET];
    assert.deepEqual(environment, expected);
    assert.deepEqual(setting('RestartPreventExitStatus')?.split(' ').map(Number), [
      ExitCode.invalid,
      ExitCode.haltedResumable,
      ExitCode.refused,
    ]);
  });

  it('starts the same command line on each host over ssh, the URL on standard input and never in an argument', () => {
    const work = tempDir('backfill-deploy-');
    try {
      // A stand-in ssh that records its arguments and standard input, one file per host.
      const bin = path.join(work.dir, 'bin');
      fs.mkdirSync(bin);
      fs.writeFileSync(
        path.join(bin, 'ssh'),
        `#!/bin/sh\nhost=$1; shift\nprintf '%s\\n' "$@" > "${work.dir}/$host.args"\ncat > "${work.dir}/$host.stdin"\n`,
        { mode: 0o755 },
      );
      const url = 'postgresql://backfill:CANARY-pw@db:5432/ledger';
      const result = spawnSync('sh', [path.join(DEPLOY, 'ssh', 'start-workers.sh'), 'host-a', 'host-b'], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, [LEDGER_SECRET]: url },
        encoding: 'utf8',
      });
      assert.equal(result.status, 0, result.stderr);
      for (const host of ['host-a', 'host-b']) {
        const remote = fs.readFileSync(path.join(work.dir, `${host}.args`), 'utf8');
        const metrics = { host: "'0.0.0.0'", port: "'9464'" };
        const command = `backfill ${workerArgs("'/srv/backfill/orders.backfill'", "'resend'", "'production'", metrics).join(' ')}`;
        assert.ok(remote.includes(`exec ${command} `), remote);
        assert.ok(remote.includes(`read -r ${LEDGER_SECRET} && export ${LEDGER_SECRET}`), remote);
        assert.doesNotMatch(remote, /CANARY/);
        assert.equal(fs.readFileSync(path.join(work.dir, `${host}.stdin`), 'utf8'), `${url}\n`);
      }
    } finally {
      work.cleanup();
    }
  });
});
