/**
 * Property tests of everything that reads user input: the runbook parser, the CSV, JSON and JSON Lines
 * readers, and the template compiler. Whatever the input, the answer is a value or a UserError (a
 * located message) — never an internal error, a hang (mocha's timeout) or a write. Small run counts keep
 * the suite to seconds; a failure prints the shrunk input that caused it.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { compileTemplate, type TemplateContext } from '../../src/core/actions/template';
import { parseRunbook } from '../../src/core/format/runbook';
import type { SourceSpec } from '../../src/core/format/schemas';
import { SecretResolver } from '../../src/core/secrets/secrets';
import { openSource } from '../../src/core/sources/openSource';
import { RecordValidator } from '../../src/core/sources/recordValidator';
import { UserError } from '../../src/core/model/types';

const RUNS = 150;

/** Text made of the characters that matter to the formats, plus anything at all. */
const formatText = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.string({ unit: fc.constantFrom(...'{}[]",:\n\r\\\'`-#&*!|>%@ \t=$aZ0'.split('')), maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

const HEADER = '---\ntitle: T\nname: t\nowner: o\n---\n';

/** Fails unless `error` is a UserError whose message has no stack trace. */
function assertUserError(error: unknown): void {
  assert.ok(
    error instanceof UserError,
    `not a located user error: ${(error as Error)?.stack ?? String(error)}`,
  );
  assert.doesNotMatch(error.message, /\n\s+at /);
}

describe('fuzzing the readers of user input', function () {
  this.timeout(60_000);

  it('parses any runbook text to a runbook or located issues, never an exception', () => {
    const cell = fc.tuple(
      fc.constantFrom('job', 'dry-run', 'execute', 'verify', 'checklist', 'result', 'yaml'),
      fc.constantFrom('a', 'b', 'orders'),
      formatText,
    );
    fc.assert(
      fc.property(formatText, fc.array(cell, { maxLength: 4 }), (header, cells) => {
        const text = [
          header.includes('---') ? header : HEADER,
          ...cells.map(([kind, id, body]) => `\`\`\`${kind} id=${id}\n${body}\n\`\`\`\n`),
        ].join('\n');
        const { runbook, issues } = parseRunbook(text, 'fuzz.backfill');
        assert.ok(runbook || issues.length > 0);
        for (const issue of issues) assert.equal(typeof issue.line, 'number');
      }),
      { numRuns: RUNS },
    );
  });

  it('compiles any template text in any context to a template or an error, and renders any record', () => {
    const contexts: TemplateContext[] = ['url', 'header', 'argv', 'text'];
    const secrets = new SecretResolver({ TOKEN: 'abcd1234' });
    fc.assert(
      fc.property(
        formatText,
        fc.constantFrom(...contexts),
        fc.dictionary(fc.string(), fc.anything()),
        (text, context, record) => {
          const compiled = compileTemplate(text, context);
          if (!compiled.ok) return;
          const rendered = compiled.template.render({ record, env: { BASE_URL: 'http://x' }, secrets });
          assert.equal(typeof rendered.ok, 'boolean');
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  for (const type of ['csv', 'json', 'jsonl'] as const) {
    it(`reads any ${type} file to records and rejections, or refuses it with a UserError, writing nothing`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-fuzz-'));
      try {
        await fc.assert(
          fc.asyncProperty(formatText, async (content) => {
            const file = path.join(dir, `records.${type}`);
            fs.writeFileSync(file, content);
            const spec = { type, path: `records.${type}`, key: 'id', fields: {} } as unknown as SourceSpec;
            const validator = new RecordValidator(spec);
            try {
              for await (const item of openSource(spec, { baseDir: dir, sourceLine: 1 }))
                validator.check(item);
            } catch (error) {
              assertUserError(error);
            }
            assert.deepEqual(fs.readdirSync(dir), [`records.${type}`], 'nothing written beside the source');
          }),
          { numRuns: RUNS },
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
