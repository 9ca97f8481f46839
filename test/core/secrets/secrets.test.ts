import { strict as assert } from 'node:assert';
import { compileAction } from '../../../src/core/actions/preview';
import { ActionSchema } from '../../../src/core/format/schemas';
import { Redactor, SecretResolver, redactDeep } from '../../../src/core/secrets/secrets';

const TOKEN = 'p@ss word/"quoted"\n&more';

describe('secret resolution', () => {
  it('resolves a secret from the given environment', () => {
    const secrets = new SecretResolver({ ORDERS_TOKEN: 'abcd1234' });
    assert.deepEqual(secrets.resolve('ORDERS_TOKEN'), { ok: true, value: 'abcd1234' });
  });

  it('says how to set a missing secret and lists it as missing', () => {
    const secrets = new SecretResolver({});
    assert.deepEqual(secrets.resolve('ORDERS_TOKEN'), {
      ok: false,
      reason: 'secret ORDERS_TOKEN is not set: export ORDERS_TOKEN=… before running',
    });
    assert.deepEqual(secrets.missing(), ['ORDERS_TOKEN']);
  });

  it('does not treat inherited object properties as secrets', () => {
    assert.equal(new SecretResolver({}).resolve('toString').ok, false);
  });

  it('reports every missing secret when resolving up front', () => {
    const secrets = new SecretResolver({ A_TOKEN: 'aaaa1111' });
    assert.deepEqual(secrets.resolveAll(['A_TOKEN', 'B_TOKEN', 'C_TOKEN']), [
      'secret B_TOKEN is not set: export B_TOKEN=… before running',
      'secret C_TOKEN is not set: export C_TOKEN=… before running',
    ]);
  });

  it('remembers every value it handed out, by name', () => {
    const secrets = new SecretResolver({ A_TOKEN: 'aaaa1111', B_TOKEN: 'bbbb2222' });
    secrets.resolve('B_TOKEN');
    assert.deepEqual([...secrets.secretValues()], [['B_TOKEN', 'bbbb2222']]);
  });

  it('warns about empty and short secrets, which it cannot redact', () => {
    const secrets = new SecretResolver({ PIN: '123', EMPTY: '', LONG: 'long-enough' });
    secrets.resolveAll(['PIN', 'EMPTY', 'LONG']);
    const warnings = secrets.warnings();
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /^secret PIN is shorter than 4 characters/);
    assert.match(warnings[1] ?? '', /^secret EMPTY is empty/);
    assert.equal(secrets.redactor().redact('pin 123'), 'pin 123');
  });
});

describe('secret redaction', () => {
  function redactorFor(values: Record<string, string>): Redactor {
    const secrets = new SecretResolver(values);
    secrets.resolveAll(Object.keys(values));
    return new Redactor(secrets);
  }

  it('replaces every occurrence of a secret with its name', () => {
    const redactor = redactorFor({ ORDERS_TOKEN: 'abcd1234' });
    assert.equal(
      redactor.redact('Bearer abcd1234 and again abcd1234abcd1234'),
      'Bearer [redacted:ORDERS_TOKEN] and again [redacted:ORDERS_TOKEN][redacted:ORDERS_TOKEN]',
    );
  });

  it('redacts before cutting, so a secret straddling the cut is recognised whole', () => {
    const redactor = redactorFor({ CANARY: 'CANARY_9f3k2' });
    const text = `${'x'.repeat(20)}CANARY_9f3k2 tail`;
    assert.equal(redactor.redactAndCut(text, 30), `${'x'.repeat(20)}[redacted…`);
  });

  it('redacts a piece of at least four characters of a secret at a marked cut, at either end', () => {
    const redactor = redactorFor({ CANARY: 'CANARY_9f3k2' });
    assert.equal(redactor.redact('HTTP 500: echo CANARY_9f3…'), 'HTTP 500: echo [redacted:CANARY]…');
    assert.equal(redactor.redact('…9f3k2 was refused'), '…[redacted:CANARY] was refused');
    assert.equal(redactor.redact('ends with CAN…'), 'ends with CAN…', 'three characters stay');
    assert.equal(redactor.redact('not cut: CANARY_9f3'), 'not cut: CANARY_9f3', 'an unmarked text is whole');
  });

  it('redacts a piece of a secret beside a cut mark inside the text, as a message quoting a cut output has', () => {
    const redactor = redactorFor({ CANARY: 'CANARY_9f3k2' });
    assert.equal(redactor.redact('exit code 1: …NARY_9f3k2yyyy'), 'exit code 1: …[redacted:CANARY]yyyy');
    assert.equal(
      redactor.redact('exit code 1: …\uFFFD\uFFFDf3k2 y'),
      'exit code 1: …\uFFFD\uFFFD[redacted:CANARY] y',
    );
    assert.equal(
      redactor.redact('expected 0: …k2 x CANARY_9f… then ...RY_9f3k2.'),
      'expected 0: …k2 x [redacted:CANARY]… then ...[redacted:CANARY].',
    );
    assert.equal(redactor.redact('exit code 1: …3k2 x'), 'exit code 1: …3k2 x', 'three characters stay');
  });

  it('replaces the URL-encoded, form-encoded and JSON-escaped forms too', () => {
    const redactor = redactorFor({ ORDERS_TOKEN: TOKEN });
    const text = [
      TOKEN,
      encodeURIComponent(TOKEN),
      new URLSearchParams({ t: TOKEN }).toString(),
      JSON.stringify({ token: TOKEN }),
    ].join(' | ');
    assert.equal(
      redactor.redact(text),
      '[redacted:ORDERS_TOKEN] | [redacted:ORDERS_TOKEN] | t=[redacted:ORDERS_TOKEN] | {"token":"[redacted:ORDERS_TOKEN]"}',
    );
  });

  it('covers a secret resolved after the redactor was created', () => {
    const secrets = new SecretResolver({ LATE_TOKEN: 'late-value' });
    const redactor = secrets.redactor();
    assert.equal(redactor.redact('late-value'), 'late-value');
    secrets.resolve('LATE_TOKEN');
    assert.equal(redactor.redact('late-value'), '[redacted:LATE_TOKEN]');
  });

  it('replaces a secret that contains another one whole', () => {
    const redactor = redactorFor({ SHORT: 'abcd', LONG: 'xxabcdxx' });
    assert.equal(redactor.redact('xxabcdxx abcd'), '[redacted:LONG] [redacted:SHORT]');
  });

  it('treats regular-expression characters in a secret as plain text', () => {
    const redactor = redactorFor({ TOKEN: 'a.b*c' });
    assert.equal(redactor.redact('aXbbc a.b*c'), 'aXbbc [redacted:TOKEN]');
  });

  it('redacts every string and key of a JSON value deeply without changing the input', () => {
    const redactor = redactorFor({ TOKEN: 'abcd1234' });
    const value = {
      headers: { Authorization: 'Bearer abcd1234' },
      list: ['abcd1234', 3, null],
      abcd1234: true,
    };
    assert.deepEqual(redactDeep(value, redactor), {
      headers: { Authorization: 'Bearer [redacted:TOKEN]' },
      list: ['[redacted:TOKEN]', 3, null],
      '[redacted:TOKEN]': true,
    });
    assert.equal(value.headers.Authorization, 'Bearer abcd1234');
  });

  it('leaves no trace of a secret in a rendered HTTP preview', () => {
    const token = 'p@ss word/"quoted"&more';
    const secrets = new SecretResolver({ ORDERS_TOKEN: token });
    const action = compileAction(
      ActionSchema.parse({
        type: 'http',
        url: 'https://api.example.com/orders/${record:id}?token=${secret:ORDERS_TOKEN}',
        headers: { Authorization: 'Bearer ${secret:ORDERS_TOKEN}' },
        body: { token: '${secret:ORDERS_TOKEN}', note: 'token is ${secret:ORDERS_TOKEN}' },
      }),
      { baseDir: __dirname },
    );
    const rendered = action.render({ key: '1', line: 2, fields: { id: 1 } }, { env: {}, secrets });
    assert.ok(rendered.ok);
    const redacted = secrets.redactor().redactValue(rendered.preview);
    assert.deepEqual(redacted, {
      type: 'http',
      method: 'POST',
      url: 'https://api.example.com/orders/1?token=[redacted:ORDERS_TOKEN]',
      headers: { Authorization: 'Bearer [redacted:ORDERS_TOKEN]', 'Content-Type': 'application/json' },
      body: '{"token":"[redacted:ORDERS_TOKEN]","note":"token is [redacted:ORDERS_TOKEN]"}',
    });
  });
});
