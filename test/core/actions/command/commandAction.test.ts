import { strict as assert } from 'node:assert';
import { compileAction } from '../../../../src/core/actions/preview';
import { TRAVERSAL_KEY, actionSpec, previewOf, reasonOf, record, renderContext } from '../helpers';

function commandAction(spec: Record<string, unknown>) {
  return compileAction(actionSpec({ type: 'command', ...spec }), { baseDir: __dirname });
}

const RESEND = commandAction({
  argv: ['./resend.sh', '--order', '${record:id}', '--reason=${record:reason}'],
  env: { API_URL: '${env:BASE_URL}', TOKEN: '${secret:ORDERS_TOKEN}' },
});

describe('command action preview', () => {
  it('renders argv, the record as one JSON line on stdin and the added environment', () => {
    const preview = previewOf(
      RESEND.render(record({ id: 'A-1', reason: 'late' }), renderContext({ idempotencyKey: 'k-1' })),
    );
    assert.deepEqual(preview, {
      type: 'command',
      mode: 'record',
      argv: ['./resend.sh', '--order', 'A-1', '--reason=late'],
      stdin: '{"id":"A-1","reason":"late"}\n',
      env: { API_URL: 'https://api.example.com', TOKEN: 'tok-123456', BACKFILL_IDEMPOTENCY_KEY: 'k-1' },
    });
  });

  for (const key of [
    TRAVERSAL_KEY,
    `${TRAVERSAL_KEY} "$(touch /tmp/pwned)" 'x'`,
    `${TRAVERSAL_KEY}\nsecond line; rm -rf /`,
  ]) {
    it(`keeps the hostile key ${JSON.stringify(key)} as exactly one argv element`, () => {
      const preview = previewOf(RESEND.render(record({ id: key, reason: 'r' }), renderContext()));
      assert.equal(preview.type, 'command');
      if (preview.type !== 'command') return;
      assert.equal(preview.argv.length, 4);
      assert.equal(preview.argv[2], key);
      assert.deepEqual(JSON.parse(preview.stdin), { id: key, reason: 'r' });
    });
  }

  it('refuses a NUL character in an argument', () => {
    assert.match(
      reasonOf(RESEND.render(record({ id: 'a\0b', reason: 'r' }), renderContext())),
      /^argv\[2\]: .*NUL/,
    );
  });

  it('refuses a record value that would be read as an option', () => {
    assert.match(
      reasonOf(RESEND.render(record({ id: '--delete-all', reason: 'r' }), renderContext())),
      /^argv\[2\]: field id makes the argument "--delete-all" start with "-".*put "--" before it/,
    );
  });

  it('accepts a record value starting with "-" after a "--" argument', () => {
    const action = commandAction({ argv: ['./resend.sh', '--', '${record:id}'] });
    const preview = previewOf(action.render(record({ id: '-5' }), renderContext()));
    assert.deepEqual(preview.type === 'command' && preview.argv, ['./resend.sh', '--', '-5']);
  });

  it('does not let a record value choose the program', () => {
    const action = commandAction({ argv: ['${record:program}', 'x'] });
    assert.deepEqual(action.issues, [
      { field: 'argv[0]', message: 'the program to run cannot come from a record value' },
    ]);
  });

  it('adds no idempotency variable in batch mode, where one process handles many records', () => {
    const action = commandAction({ argv: ['./batch.sh'], mode: 'batch' });
    const preview = previewOf(action.render(record({ id: 1 }), renderContext({ idempotencyKey: 'k-1' })));
    assert.deepEqual(preview.type === 'command' && preview.env, {});
  });

  it('reports an invalid environment variable name as an issue', () => {
    const action = commandAction({ argv: ['./x'], env: { 'BAD-NAME': 'x' } });
    assert.deepEqual(
      action.issues.map((issue) => issue.field),
      ['env.BAD-NAME'],
    );
  });

  it('refuses a record value in a variable that changes how the program is loaded', () => {
    const names = ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'NODE_OPTIONS', 'PATH', 'DYLD_INSERT_LIBRARIES'];
    const gitAndPython = [
      'GIT_CONFIG_COUNT',
      'GIT_CONFIG_KEY_0',
      'GIT_CONFIG_VALUE_0',
      'GIT_CONFIG_PARAMETERS',
    ];
    for (const name of [...names, ...gitAndPython, 'PYTHONWARNINGS', 'GIT_ASKPASS']) {
      const action = commandAction({ argv: ['./x'], env: { [name]: '/tmp/${record:id}.so' } });
      assert.deepEqual(
        action.issues.map((issue) => [issue.field, issue.message]),
        [
          [
            `env.${name}`,
            `${name} changes how the program is loaded, so it cannot take a record value (\${record:id}): ` +
              'set it from the runbook, ${env:…} or ${secret:…}, or pass the value as an argument',
          ],
        ],
      );
    }
  });

  it("lets loader variables take the runbook's own values, and other variables record values", () => {
    const action = commandAction({
      argv: ['./x'],
      env: { PATH: '${env:TOOLS}:/usr/bin', NODE_OPTIONS: '--max-old-space-size=512', ORDER: '${record:id}' },
    });
    assert.deepEqual(action.issues, []);
  });

  it('says that a record value cannot name an environment variable', () => {
    const action = commandAction({ argv: ['./x'], env: { '${record:name}': 'x' } });
    assert.match(action.issues[0]?.message ?? '', /a name cannot come from a template or a record value/);
  });
});
