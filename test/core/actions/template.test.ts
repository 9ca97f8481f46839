import { strict as assert } from 'node:assert';
import type { TemplateContext, TemplateValues } from '../../../src/core/actions/template';
import { compileTemplate, listTemplateReferences } from '../../../src/core/actions/template';
import { SecretResolver } from '../../../src/core/secrets/secrets';
import { TRAVERSAL_KEY } from './helpers';

function values(record: Record<string, unknown>, env: Record<string, string> = {}): TemplateValues {
  return { record, env, secrets: new SecretResolver({ ORDERS_TOKEN: 'tok/en?&=#123' }) };
}

function compile(text: string, context: TemplateContext) {
  const compiled = compileTemplate(text, context);
  if (!compiled.ok) throw new Error(`unexpected template error: ${compiled.message}`);
  return compiled.template;
}

function render(text: string, context: TemplateContext, templateValues: TemplateValues) {
  return compile(text, context).render(templateValues);
}

function rendered(text: string, context: TemplateContext, templateValues: TemplateValues): string {
  const result = render(text, context, templateValues);
  if (!result.ok) throw new Error(`unexpected refusal: ${result.reason}`);
  return result.value;
}

function refusal(text: string, context: TemplateContext, templateValues: TemplateValues): string {
  const result = render(text, context, templateValues);
  if (result.ok) throw new Error(`expected a refusal, got ${result.value}`);
  return result.reason;
}

const ORDER_URL = 'https://api.example.com/orders/${record:id}/resend';

describe('template parsing', () => {
  it('turns $${ into a literal ${ and substitutes nothing there', () => {
    assert.equal(
      rendered('cost: $${record:id} is ${record:id}', 'text', values({ id: 7 })),
      'cost: ${record:id} is 7',
    );
  });

  it('reports an unknown namespace with the placeholders that exist', () => {
    const compiled = compileTemplate('/x/${foo:x}', 'url');
    assert.deepEqual(compiled, {
      ok: false,
      message: 'unknown placeholder ${foo:x}: use ${record:FIELD}, ${env:NAME} or ${secret:NAME}',
      column: 4,
    });
  });

  it('rejects ${key} because record fields are addressed as ${record:FIELD}', () => {
    const compiled = compileTemplate('${key}', 'text');
    assert.equal(compiled.ok, false);
    assert.match(!compiled.ok ? compiled.message : '', /unknown placeholder \$\{key\}/);
  });

  it('reports an unclosed placeholder at its column', () => {
    const compiled = compileTemplate('ab${record:id', 'text');
    assert.equal(compiled.ok, false);
    assert.equal(!compiled.ok && compiled.column, 3);
    assert.match(!compiled.ok ? compiled.message : '', /unclosed placeholder/);
  });

  it('rejects an invalid env name', () => {
    const compiled = compileTemplate('${env:1BAD}', 'text');
    assert.equal(compiled.ok, false);
    assert.match(!compiled.ok ? compiled.message : '', /invalid env name/);
  });

  it('rejects a header template whose literal text contains a line break', () => {
    const compiled = compileTemplate('a\r\nX-Injected: 1', 'header');
    assert.equal(compiled.ok, false);
    assert.match(!compiled.ok ? compiled.message : '', /carriage return/);
  });

  it('lists referenced record fields, env names and secret names, sorted and unique', () => {
    const listed = listTemplateReferences(
      '${env:BASE}/${record:customer.id}/${record:id}?t=${secret:TOKEN}&again=${record:id}',
    );
    assert.deepEqual(listed, {
      ok: true,
      references: { recordFields: ['customer.id', 'id'], envNames: ['BASE'], secretNames: ['TOKEN'] },
    });
  });
});

describe('template rendering', () => {
  it('reads dotted paths into nested record values', () => {
    assert.equal(rendered('${record:customer.id}', 'text', values({ customer: { id: 42 } })), '42');
  });

  it('reads a flat field whose name contains a dot before trying a nested path', () => {
    assert.equal(rendered('${record:a.b}', 'text', values({ 'a.b': 'flat', a: { b: 'nested' } })), 'flat');
  });

  it('does not reach into prototypes for fields the record does not have', () => {
    assert.equal(
      refusal('${record:constructor}', 'text', values({ id: 1 })),
      'field constructor is missing from the record',
    );
  });

  it('refuses a record without the field', () => {
    assert.equal(refusal('${record:id}', 'text', values({})), 'field id is missing from the record');
  });

  it('refuses an env variable the environment does not define', () => {
    assert.match(refusal('${env:NOPE}', 'text', values({})), /env NOPE is not defined/);
  });

  it('refuses a missing secret with how to set it', () => {
    assert.equal(
      refusal('${secret:MISSING_TOKEN}', 'text', values({})),
      'secret MISSING_TOKEN is not set: export MISSING_TOKEN=… before running',
    );
  });
});

describe('url escaping', () => {
  for (const [label, key] of [
    ['a traversal key', TRAVERSAL_KEY],
    ['a traversal key with quotes', `${TRAVERSAL_KEY}"'`],
    ['a traversal key with a newline', `${TRAVERSAL_KEY}\r\nX: y`],
  ]) {
    it(`keeps ${label} inside exactly one path segment`, () => {
      const url = rendered(ORDER_URL, 'url', values({ id: key }));
      const parsed = new URL(url);
      const segments = parsed.pathname.split('/');
      assert.equal(segments.length, 4);
      assert.deepEqual([segments[0], segments[1], segments[3]], ['', 'orders', 'resend']);
      assert.equal(decodeURIComponent(segments[2] ?? ''), key);
      assert.equal(parsed.search, '');
      assert.equal(parsed.hash, '');
    });
  }

  it('encodes the traversal key as exactly ..%2Fadmin%3Fx%3D1%23frag', () => {
    assert.equal(
      rendered(ORDER_URL, 'url', values({ id: TRAVERSAL_KEY })),
      'https://api.example.com/orders/..%2Fadmin%3Fx%3D1%23frag/resend',
    );
  });

  for (const dotSegment of ['..', '.', '']) {
    it(`refuses ${JSON.stringify(dotSegment)} as a path segment`, () => {
      assert.equal(
        refusal(ORDER_URL, 'url', values({ id: dotSegment })),
        `field id: ${JSON.stringify(dotSegment)} cannot be used as a URL path segment`,
      );
    });
  }

  it('keeps %2e%2e from becoming a dot segment by encoding its percent signs', () => {
    const url = rendered(ORDER_URL, 'url', values({ id: '%2e%2e' }));
    assert.equal(new URL(url).pathname, '/orders/%252e%252e/resend');
  });

  it('keeps a query injection attempt inside one parameter value', () => {
    const url = rendered(
      'https://api.example.com/orders?id=${record:id}&v=1',
      'url',
      values({ id: 'a&b=c' }),
    );
    const params = new URL(url).searchParams;
    assert.deepEqual([...params.keys()], ['id', 'v']);
    assert.equal(params.get('id'), 'a&b=c');
  });

  it('keeps a plus sign in a query value from turning into a space', () => {
    const url = rendered('https://api.example.com/orders?q=${record:q}', 'url', values({ q: 'a+b c' }));
    assert.equal(new URL(url).searchParams.get('q'), 'a+b c');
  });

  it('encodes a value in the fragment so it cannot end the fragment early', () => {
    const url = rendered('https://api.example.com/x#${record:id}', 'url', values({ id: '#a b' }));
    assert.equal(decodeURIComponent(new URL(url).hash.slice(1)), '#a b');
  });

  it('inserts env values verbatim so a base URL keeps its slashes', () => {
    const url = rendered(
      '${env:BASE_URL}/orders/${record:id}',
      'url',
      values({ id: 5 }, { BASE_URL: 'https://api.example.com/v2' }),
    );
    assert.equal(url, 'https://api.example.com/v2/orders/5');
  });

  it('encodes secret values like record values', () => {
    const url = rendered('https://api.example.com/x?token=${secret:ORDERS_TOKEN}', 'url', values({}));
    assert.equal(new URL(url).searchParams.get('token'), 'tok/en?&=#123');
  });

  it('refuses a record value placed where it would choose the host', () => {
    assert.match(
      refusal('https://${record:tenant}.example.com/x', 'url', values({ tenant: 'evil.com/' })),
      /field tenant: a record value cannot choose the URL's scheme or host/,
    );
  });

  it('refuses a URL that does not parse after substitution', () => {
    assert.match(
      refusal('${env:BASE_URL}/x', 'url', values({}, { BASE_URL: 'not a url' })),
      /is not a valid absolute URL/,
    );
  });
});

describe('header escaping', () => {
  for (const [label, value] of [
    ['CR', 'a\rb'],
    ['LF', 'a\nX-Injected: 1'],
    ['NUL', 'a\0b'],
  ]) {
    it(`refuses a value containing ${label} instead of stripping it`, () => {
      assert.match(
        refusal('note ${record:note}', 'header', values({ note: value })),
        /^field note: .* not allowed in an HTTP header value$/,
      );
    });
  }

  it('refuses characters Node rejects in header values', () => {
    assert.match(refusal('${record:note}', 'header', values({ note: 'snow ☃' })), /U\+2603/);
  });

  it('never repeats a secret value in a refusal', () => {
    const templateValues: TemplateValues = {
      record: {},
      env: {},
      secrets: new SecretResolver({ TOKEN: 'super-secret\nvalue' }),
    };
    const reason = refusal('Bearer ${secret:TOKEN}', 'header', templateValues);
    assert.doesNotMatch(reason, /super-secret/);
    assert.match(reason, /^secret TOKEN: /);
  });
});

describe('argv and text rendering', () => {
  it('keeps quotes, spaces and newlines in an argv value as they are', () => {
    assert.equal(
      rendered('${record:id}', 'argv', values({ id: `${TRAVERSAL_KEY} "; rm -rf /\n` })),
      `${TRAVERSAL_KEY} "; rm -rf /\n`,
    );
  });

  it('refuses NUL in an argv value', () => {
    assert.match(refusal('--id=${record:id}', 'argv', values({ id: 'a\0b' })), /NUL character/);
  });

  it('inserts objects as JSON when interpolated into text', () => {
    assert.equal(rendered('x=${record:o}', 'text', values({ o: { a: [1] } })), 'x={"a":[1]}');
  });
});
