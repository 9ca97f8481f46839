/**
 * The bad-input catalogue. Two kinds of bad input get two kinds of answer:
 *
 * - A broken runbook, source, option or state file is refused: exit 2, a located message (FILE:LINE, or
 *   the path it is about), no stack trace, and no write — every file that existed is byte for byte as it
 *   was, no ledger is created, and a pre-existing ledger is untouched. (A refused real run may leave its
 *   empty journal file behind; it holds nothing.)
 * - A malformed record is not fatal: the product rejects it with its line and reason and counts it. The
 *   dry run says so in its report, and exits by its success threshold — 1 here, where it is 100 % — so
 *   those cases assert the located rejection and exit 1 (exit 0 for a duplicate key, which is reported
 *   but does not count against the threshold: the first occurrence is the one sent).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { runCli, tempDir } from '../support/cli';
import { badInputRunbook, HTTP_ACTION, lineOf, snapshot, sourceBlock } from './support/badInputRunbook';
import { unwritableFolders } from './support/unwritableFolder';

type Files = Record<string, string | Buffer>;

interface Refusal {
  name: string;
  /** The runbook text (default: the valid one); null writes no runbook at all. */
  runbook?: string | Buffer | null;
  files?: Files;
  folders?: string[];
  /** What the state folder holds beforehand, a file in its place, or a ledger in a read-only folder. */
  state?: Files | 'a file' | 'read-only';
  args: (file: string) => string[];
  env?: NodeJS.ProcessEnv;
  /** What stderr must contain (each of them). */
  says: (file: string, dir: string, text: string) => string | string[];
  /** The message is the only located problem reported. */
  alone?: boolean;
}

interface RecordProblem {
  name: string;
  runbook?: string;
  files: Files;
  exit: 0 | 1;
  rejected?: { line: number; reason: string };
  duplicate?: { key: string; line: number; firstLine: number };
  problem?: string;
}

const CSV = (rows: string | Buffer) => ({ 'records.csv': rows });
const GOOD_CSV = CSV('id,amount\na1,1\nb2,2\n');
const dryRun = (file: string) => ['dry-run', file];
const check = (file: string) => ['check', file];
const execute = (file: string, ...extra: string[]) => ['run', file, '--cell', 'full', '--execute', ...extra];
const located = (file: string, text: string, needle: string, rest: string) =>
  `${file}:${lineOf(text, needle)}: ${rest}`;

const REFUSALS: Refusal[] = [
  {
    name: 'an unterminated cell fence',
    runbook: badInputRunbook().replace(/```\n$/, ''),
    files: GOOD_CSV,
    args: check,
    says: (file, _, text) => located(file, text, '```execute', 'unterminated execute fence'),
  },
  {
    name: 'a misspelled cell field, with a suggestion, reported once',
    runbook: badInputRunbook({ throttle: 'throttle: { rate: 100, concurency: 2 }' }),
    files: GOOD_CSV,
    args: dryRun,
    says: (file, _, text) =>
      located(
        file,
        text,
        'concurency',
        'cell items: throttle.concurency: unknown field "concurency": did you mean "concurrency"?',
      ),
    alone: true,
  },
  {
    name: 'an unknown field in an execute cell',
    runbook: badInputRunbook({ execute: 'job: items\ncolour: red' }),
    files: GOOD_CSV,
    args: check,
    says: (file, _, text) => located(file, text, 'colour', 'cell full: colour: unknown field "colour"'),
  },
  {
    name: 'a rate that is a word, not a number',
    runbook: badInputRunbook({ throttle: 'throttle: { rate: fast }' }),
    files: GOOD_CSV,
    args: dryRun,
    says: (file, _, text) =>
      located(file, text, 'rate: fast', 'cell items: throttle.rate: expected a number, got string "fast"'),
  },
  {
    name: 'a key that is a YAML list',
    runbook: badInputRunbook({ source: sourceBlock('csv', 'records.csv').replace('key: id', 'key: [id]') }),
    files: GOOD_CSV,
    args: dryRun,
    says: (file, _, text) =>
      located(file, text, 'key: [id]', 'cell items: source.key: expected a string, got a list'),
  },
  {
    name: 'a success threshold that is a string',
    runbook: badInputRunbook({ preview: 'job: items\nsuccessThreshold: "yes"' }),
    files: GOOD_CSV,
    args: dryRun,
    says: (file, _, text) =>
      located(
        file,
        text,
        'successThreshold',
        'cell preview: successThreshold: expected a number, got string "yes"',
      ),
  },
  {
    name: 'a YAML syntax error in a cell',
    runbook: badInputRunbook({ throttle: 'throttle: { rate: 100' }),
    files: GOOD_CSV,
    args: dryRun,
    // The YAML parser notices the unclosed map where the cell ends, one line after it opens.
    says: (file, _, text) => [
      located(file, text, 'rate: 100', '').replace(/:\d+: $/, ':'),
      'cell items: YAML: Flow map in block collection must be sufficiently indented and end with a }: fix the YAML syntax',
    ],
    alone: true,
  },
  {
    name: 'a runbook without front matter',
    runbook: '# Just notes\n',
    args: dryRun,
    says: (file) => `${file}:1: missing front matter`,
  },
  {
    name: 'an action of an unknown type',
    runbook: badInputRunbook({ action: HTTP_ACTION.replace('type: http', 'type: ftp') }),
    files: GOOD_CSV,
    args: dryRun,
    says: (file, _, text) => located(file, text, 'type: ftp', 'cell items: action.type:'),
  },
  {
    name: 'a placeholder of an unknown kind',
    runbook: badInputRunbook({ action: HTTP_ACTION.replace('${record:id}', '${nope:x}') }),
    files: GOOD_CSV,
    args: check,
    says: (file, _, text) =>
      located(file, text, '${nope:x}', 'cell items: action.url: unknown placeholder ${nope:x}'),
  },
  {
    name: 'a field pattern that is not a regular expression',
    runbook: badInputRunbook({
      source: sourceBlock('csv', 'records.csv').replace(
        '    id: string',
        '    id: { type: string, pattern: "([a-z" }',
      ),
    }),
    files: GOOD_CSV,
    args: dryRun,
    says: (file, _, text) =>
      located(
        file,
        text,
        'pattern',
        'cell items: source.fields.id.pattern: not a valid regular expression: /([a-z/',
      ),
  },
  {
    name: 'two cells with the same id',
    runbook: badInputRunbook().replace('```execute id=full', '```execute id=preview'),
    files: GOOD_CSV,
    args: check,
    says: (file, _, text) =>
      located(file, text, '```execute id=preview', 'cell preview: duplicate cell id "preview"'),
  },
  {
    name: 'a runbook that is not valid UTF-8',
    runbook: Buffer.concat([
      Buffer.from('---\ntitle: Caf'),
      Buffer.from([0xe9]),
      Buffer.from(badInputRunbook().slice('---\ntitle: Bad inputs'.length)),
    ]),
    files: GOOD_CSV,
    args: dryRun,
    says: (file) => `${file}:2: not valid UTF-8`,
  },
  {
    name: 'a runbook file that does not exist',
    runbook: null,
    args: dryRun,
    says: (file) => `cannot read runbook ${file}: no such file`,
  },
  {
    name: 'a runbook path that is a folder',
    runbook: null,
    folders: ['job.backfill'],
    args: dryRun,
    says: (file) => `cannot read runbook ${file}: it is a folder`,
  },
  {
    name: 'a CSV source file that does not exist',
    args: dryRun,
    says: (_, dir) => `record source not found: ${path.join(dir, 'records.csv')}`,
  },
  {
    name: 'a source path that is a folder',
    folders: ['records.csv'],
    args: dryRun,
    says: (_, dir) => `record source ${path.join(dir, 'records.csv')} is not a file`,
  },
  {
    name: 'a CSV header that names a column twice',
    files: CSV('id,id\na,b\n'),
    args: dryRun,
    says: (_, dir) => `${path.join(dir, 'records.csv')}:1: the header names the column "id" twice`,
  },
  {
    name: 'a JSON source that is an object, not an array',
    runbook: badInputRunbook({ source: sourceBlock('json', 'records.json') }),
    files: { 'records.json': '{"id":"a1","amount":1}\n' },
    args: dryRun,
    says: (_, dir) => `${path.join(dir, 'records.json')}:1: expected a JSON array of records, found "{"`,
  },
  {
    name: 'an empty JSON source file',
    runbook: badInputRunbook({ source: sourceBlock('json', 'records.json') }),
    files: { 'records.json': '' },
    args: dryRun,
    says: (_, dir) =>
      `${path.join(dir, 'records.json')}:1: the file is empty; expected a JSON array of records`,
  },
  {
    name: 'a SQL query with a syntax error',
    runbook: badInputRunbook({
      source: sourceBlock('sqlite', 'db.sqlite', '  query: SELEC id, amount FROM t'),
    }),
    args: dryRun,
    says: (_, dir) => `the SQLite query failed on ${path.join(dir, 'db.sqlite')}: near "SELEC": syntax error`,
  },
  {
    name: 'a SQL query on a table that does not exist',
    runbook: badInputRunbook({
      source: sourceBlock('sqlite', 'db.sqlite', '  query: SELECT id FROM nosuch'),
    }),
    args: dryRun,
    says: (_, dir) => `the SQLite query failed on ${path.join(dir, 'db.sqlite')}: no such table: nosuch`,
  },
  {
    name: 'a SQLite source that is not a SQLite database',
    runbook: badInputRunbook({
      source: sourceBlock('sqlite', 'not.sqlite', '  query: SELECT id, amount FROM t'),
    }),
    files: { 'not.sqlite': 'id,amount\na1,1\n' },
    args: dryRun,
    says: (_, dir) => `the SQLite query failed on ${path.join(dir, 'not.sqlite')}: file is not a database`,
  },
  {
    name: 'a command source that exits 1',
    runbook: badInputRunbook({
      source: [
        'source:',
        '  type: command',
        '  argv: [node, -e, "console.error(\'replica unreachable\'); process.exit(1)"]',
        '  key: id',
      ].join('\n'),
    }),
    args: dryRun,
    says: () => 'the source command "node" exited with code 1; end of its stderr:',
  },
  {
    name: 'a subset keys file that does not exist',
    runbook: badInputRunbook({ execute: 'job: items\nsubset: { keysFile: keys.txt }' }),
    files: GOOD_CSV,
    args: (file) => ['dry-run', file, '--cell', 'full'],
    says: (_, dir) => `cannot read subset.keysFile ${path.join(dir, 'keys.txt')}`,
  },
  {
    name: 'an unknown environment',
    files: GOOD_CSV,
    args: (file) => ['dry-run', file, '--env', 'staging'],
    says: () => 'unknown environment "staging": use one of: test',
  },
  {
    name: 'a --var without a value',
    files: GOOD_CSV,
    args: (file) => ['dry-run', file, '--var', 'BASE_URL'],
    says: () => '--var "BASE_URL" is not NAME=VALUE',
  },
  {
    name: 'a cell that does not exist',
    files: GOOD_CSV,
    args: (file) => ['run', file, '--cell', 'ful', '--execute'],
    says: (file) => ['--cell ful: not an execute', `cell of ${file}; use one of: full`],
  },
  {
    name: 'an --only that is neither failed nor unverified',
    files: GOOD_CSV,
    args: (file) => execute(file, '--only', 'everything'),
    says: () => '--only everything: use --only failed or --only unverified',
  },
  {
    name: 'a secret that is not set, for a real run',
    runbook: badInputRunbook({
      action: HTTP_ACTION.replace(
        '  body:',
        '  headers: { Authorization: "Bearer ${secret:NOT_SET_TOKEN}" }\n  body:',
      ),
    }),
    files: GOOD_CSV,
    args: (file) => execute(file),
    says: () => 'secret NOT_SET_TOKEN is not set: export NOT_SET_TOKEN=… before running',
  },
  {
    name: 'a module action whose file does not exist, for a real run',
    runbook: badInputRunbook({ action: 'action:\n  type: module\n  path: missing.mjs' }),
    files: GOOD_CSV,
    args: (file) => execute(file),
    says: (_, dir) => `module missing.mjs not found (looked for ${path.join(dir, 'missing.mjs')})`,
  },
  {
    name: 'a halt file left beside the runbook',
    files: { ...GOOD_CSV, 'job.backfill.halt': '' },
    args: (file) => execute(file),
    says: (file) => `halt file ${file}.halt exists: remove it to allow the run`,
  },
  {
    name: 'a ledger that is not a ledger',
    files: GOOD_CSV,
    state: { 'ledger.sqlite': Buffer.from('this is not a SQLite database\u0000\u0001') },
    args: (file) => execute(file),
    says: () => 'not a readable backfill ledger',
  },
  {
    name: 'a journal with a malformed line before the last',
    files: GOOD_CSV,
    state: { 'journal.jsonl': 'garbage\n{"seq":2}\n' },
    args: (file) => execute(file),
    says: (file) => `journal ${file}.d/journal.jsonl:1 is not a valid journal entry`,
  },
  {
    name: 'a state folder that is read-only before a run starts',
    files: GOOD_CSV,
    state: 'read-only',
    args: (file) => execute(file),
    says: (file) => [`${file}.d/lock`, 'check the permissions of the file and its folder'],
  },
  {
    name: 'a state folder that is read-only before a dry run records its result',
    files: GOOD_CSV,
    state: 'read-only',
    args: dryRun,
    says: (file) => [`${file}.d/ledger.sqlite`, 'check the permissions of the file and its folder'],
  },
  {
    name: 'a file where the state folder belongs',
    files: GOOD_CSV,
    state: 'a file',
    args: dryRun,
    says: (file) => `${file}.d is not a folder`,
  },
];

const RECORD_PROBLEMS: RecordProblem[] = [
  {
    name: 'a CSV row with broken quoting',
    files: CSV('id,amount\n"a1,1\nb2,2\n'),
    exit: 1,
    rejected: { line: 2, reason: 'broken quoting in field 1 ("id"): the quoted field is never closed' },
  },
  {
    name: 'a CSV row that is not valid UTF-8',
    files: CSV(Buffer.concat([Buffer.from('id,amount\na'), Buffer.from([0xff]), Buffer.from('1,1\nb2,2\n')])),
    exit: 1,
    rejected: { line: 2, reason: 'not valid UTF-8' },
  },
  {
    name: 'a JSON Lines record that is not valid UTF-8',
    runbook: badInputRunbook({ source: sourceBlock('jsonl', 'records.jsonl') }),
    files: {
      'records.jsonl': Buffer.concat([
        Buffer.from('{"id":"b2","amount":2}\n{"id":"a'),
        Buffer.from([0xc3]),
        Buffer.from('","amount":1}\n'),
      ]),
    },
    exit: 1,
    rejected: { line: 2, reason: 'not valid UTF-8' },
  },
  {
    name: 'a NUL byte in a CSV field that would become a command argument',
    runbook: badInputRunbook({
      source: sourceBlock('csv', 'records.csv').replace(
        '    amount: number',
        '    amount: number\n    note: string',
      ),
      action: 'action:\n  type: command\n  argv: [node, -e, "", "${record:note}"]',
    }),
    files: CSV('id,amount,note\na1,1,x\u0000y\nb2,2,ok\n'),
    exit: 1,
    rejected: { line: 2, reason: 'contains a NUL character, which cannot be passed as a command argument' },
  },
  {
    name: 'a 10 MB line that is not JSON, rejected with a short reason',
    runbook: badInputRunbook({ source: sourceBlock('jsonl', 'records.jsonl') }),
    files: { 'records.jsonl': `{"id":"b2","amount":2}\n{"id":"a1",${'x'.repeat(10 * 1024 * 1024)}\n` },
    exit: 1,
    rejected: { line: 2, reason: 'invalid JSON' },
  },
  {
    name: 'a 10 MB CSV value of the wrong type, quoted only by its start',
    files: CSV(`id,amount\na1,${'x'.repeat(10 * 1024 * 1024)}\nb2,2\n`),
    exit: 1,
    rejected: { line: 2, reason: `field amount: expected a number, got "${'x'.repeat(57)}..."` },
  },
  {
    name: 'a record whose key is empty',
    files: CSV('id,amount\n,1\nb2,2\n'),
    exit: 1,
    rejected: { line: 2, reason: 'missing key field id' },
  },
  {
    name: 'a CSV without the key column',
    files: CSV('ident,amount\na1,1\n'),
    exit: 1,
    rejected: { line: 2, reason: 'missing key field id' },
  },
  {
    name: 'a value of the wrong type',
    files: CSV('id,amount\na1,ten\nb2,2\n'),
    exit: 1,
    rejected: { line: 2, reason: 'field amount: expected a number, got "ten"' },
  },
  {
    name: 'a number too large for a double',
    files: CSV('id,amount\na1,1e999\nb2,2\n'),
    exit: 1,
    rejected: { line: 2, reason: 'field amount: "1e999" is too large for a number' },
  },
  {
    name: 'a CSV row with fewer fields than the header',
    files: CSV('id,amount\na1\nb2,2\n'),
    exit: 1,
    rejected: { line: 2, reason: 'expected 2 fields as in the header, got 1' },
  },
  {
    name: 'a JSON Lines record that is an array',
    runbook: badInputRunbook({ source: sourceBlock('jsonl', 'records.jsonl') }),
    files: { 'records.jsonl': '[1,2]\n{"id":"b2","amount":2}\n' },
    exit: 1,
    rejected: { line: 1, reason: 'expected a JSON object, got array' },
  },
  {
    name: 'a JSON array element that is a string',
    runbook: badInputRunbook({ source: sourceBlock('json', 'records.json') }),
    files: { 'records.json': '[\n"a1",\n{"id":"b2","amount":2}\n]\n' },
    exit: 1,
    rejected: { line: 2, reason: 'expected a JSON object, got string' },
  },
  {
    name: 'a truncated JSON array',
    runbook: badInputRunbook({ source: sourceBlock('json', 'records.json') }),
    files: { 'records.json': '[\n{"id":"b2","amount":2},\n{"id":"a1","amo' },
    exit: 1,
    rejected: { line: 3, reason: 'the file ends inside this element' },
  },
  {
    name: 'a value that does not match its pattern',
    runbook: badInputRunbook({
      source: sourceBlock('csv', 'records.csv').replace(
        '    id: string',
        '    id: { type: string, pattern: "^[a-z][0-9]$" }',
      ),
    }),
    files: CSV('id,amount\nZZ,1\nb2,2\n'),
    exit: 1,
    rejected: { line: 2, reason: 'field id: "ZZ" does not match pattern ^[a-z][0-9]$' },
  },
  {
    name: 'a key of ".." that would escape its URL path segment',
    files: CSV('id,amount\n..,1\nb2,2\n'),
    exit: 1,
    rejected: { line: 2, reason: 'field id: ".." cannot be used as a URL path segment' },
  },
  {
    name: 'a value with a line break that would go into a header',
    runbook: badInputRunbook({
      source: sourceBlock('csv', 'records.csv').replace(
        '    amount: number',
        '    amount: number\n    note: string',
      ),
      action: HTTP_ACTION.replace('  body:', '  headers: { X-Note: "${record:note}" }\n  body:'),
    }),
    files: CSV('id,amount,note\na1,1,"line1\nline2"\nb2,2,ok\n'),
    exit: 1,
    rejected: { line: 2, reason: 'contains a line feed (LF), which is not allowed in an HTTP header value' },
  },
  {
    name: 'a command source line that is not JSON',
    runbook: badInputRunbook({
      source: [
        'source:',
        '  type: command',
        "  argv: [node, -e, \"console.log('oops'); console.log(JSON.stringify({ id: 'b2', amount: 2 }))\"]",
        '  key: id',
      ].join('\n'),
    }),
    files: {},
    exit: 1,
    rejected: { line: 1, reason: 'invalid JSON' },
  },
  {
    name: 'a duplicate key, reported with both lines; the first is the one sent, so it still passes',
    files: CSV('id,amount\na1,1\nb2,2\na1,3\n'),
    exit: 0,
    duplicate: { key: 'a1', line: 4, firstLine: 2 },
  },
  {
    name: 'an empty CSV file (no header): nothing would be sent, so it does not pass',
    files: CSV(''),
    exit: 1,
    problem: 'no record would be sent: check the source and the subset',
  },
  {
    name: 'an empty JSON Lines file: nothing would be sent, so it does not pass',
    runbook: badInputRunbook({ source: sourceBlock('jsonl', 'records.jsonl') }),
    files: { 'records.jsonl': '' },
    exit: 1,
    problem: 'no record would be sent: check the source and the subset',
  },
];

describe('the bad-input catalogue', function () {
  this.timeout(60_000);
  /** A real ledger, to prove that a refused command leaves a pre-existing one byte for byte. */
  let seedLedger: Buffer;
  let sqliteFile: Buffer;
  let work: ReturnType<typeof tempDir>;
  const folders = unwritableFolders();

  before(async () => {
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    db.run("CREATE TABLE t (id TEXT, amount REAL); INSERT INTO t VALUES ('a1', 1), ('b2', 2)");
    sqliteFile = Buffer.from(db.export());
    db.close();
    const seed = tempDir('backfill-seed-');
    try {
      const file = path.join(seed.dir, 'job.backfill');
      fs.writeFileSync(file, badInputRunbook());
      fs.writeFileSync(path.join(seed.dir, 'records.csv'), 'id,amount\na1,1\n');
      const result = await runCli(['dry-run', file]);
      assert.equal(result.code, 0, result.stderr);
      seedLedger = fs.readFileSync(path.join(`${file}.d`, 'ledger.sqlite'));
    } finally {
      seed.cleanup();
    }
  });
  beforeEach(() => (work = tempDir('backfill-bad-input-')));
  afterEach(() => work.cleanup());

  it(`holds at least 30 bad inputs (${REFUSALS.length + RECORD_PROBLEMS.length})`, () => {
    assert.ok(REFUSALS.length + RECORD_PROBLEMS.length >= 30);
    const names = [...REFUSALS, ...RECORD_PROBLEMS].map((c) => c.name);
    assert.equal(new Set(names).size, names.length, 'every case has its own name');
  });

  function writeCase(
    dir: string,
    c: { runbook?: string | Buffer | null; files?: Files; folders?: string[] },
  ) {
    const file = path.join(dir, 'job.backfill');
    if (c.runbook !== null) fs.writeFileSync(file, c.runbook ?? badInputRunbook());
    fs.writeFileSync(path.join(dir, 'db.sqlite'), sqliteFile);
    for (const [name, content] of Object.entries(c.files ?? {}))
      fs.writeFileSync(path.join(dir, name), content);
    for (const folder of c.folders ?? []) fs.mkdirSync(path.join(dir, folder));
    return file;
  }

  async function assertRefused(c: Refusal, dir: string, seeded: boolean): Promise<void> {
    const file = writeCase(dir, c);
    const stateDir = `${file}.d`;
    if (c.state === 'a file') fs.writeFileSync(stateDir, 'not a folder');
    else if (c.state || seeded) {
      fs.mkdirSync(stateDir);
      const files = typeof c.state === 'object' ? c.state : { 'ledger.sqlite': seedLedger };
      for (const [name, content] of Object.entries(files))
        fs.writeFileSync(path.join(stateDir, name), content);
    }
    if (c.state === 'read-only' && !('unavailable' in folders)) folders.freeze(stateDir);
    try {
      await runRefused(c, dir, file, seeded);
    } finally {
      if (c.state === 'read-only' && !('unavailable' in folders)) folders.thaw(stateDir);
    }
  }

  async function runRefused(c: Refusal, dir: string, file: string, seeded: boolean): Promise<void> {
    const text = fs.existsSync(file) && fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : '';
    const before = snapshot(dir);
    const result = await runCli(c.args(file), { env: c.env ?? {} });
    const context = `${seeded ? 'with a ledger: ' : ''}exit ${result.code}\n${result.stderr}${result.stdout}`;
    assert.equal(result.code, 2, context);
    for (const expected of [c.says(file, dir, text)].flat()) {
      assert.ok(result.stderr.includes(expected), `expected "${expected}" in:\n${context}`);
    }
    assert.ok(!/\n\s+at /.test(result.stderr), `no stack trace:\n${result.stderr}`);
    assert.doesNotMatch(result.stderr, /internal error/);
    if (c.alone) {
      const problems = result.stderr.split('\n').filter((line) => line.startsWith(`${file}:`));
      assert.equal(problems.length, 1, `one located problem:\n${result.stderr}`);
    }
    const after = snapshot(dir);
    for (const [name, bytes] of before)
      assert.deepEqual(after.get(name), bytes, `${name} is byte for byte as it was`);
    const created = [...after.keys()].filter((name) => !before.has(name));
    assert.deepEqual(
      created.filter((name) => after.get(name)!.length > 0 || name.endsWith('ledger.sqlite')),
      [],
      'a refused command creates no ledger and writes nothing',
    );
  }

  describe('refused with exit 2, a located message and no write', () => {
    for (const c of REFUSALS) {
      it(`refuses ${c.name}`, async function () {
        if (c.state === 'read-only' && 'unavailable' in folders) this.skip();
        await assertRefused(c, work.dir, false);
        if (c.state !== undefined || c.runbook === null) return;
        const again = tempDir('backfill-bad-input-');
        try {
          await assertRefused(c, again.dir, true);
        } finally {
          again.cleanup();
        }
      });
    }
  });

  describe('malformed records: rejected at their line with a reason, counted, and judged by the threshold', () => {
    for (const c of RECORD_PROBLEMS) {
      it(`reports ${c.name}`, async () => {
        const file = writeCase(work.dir, c);
        const result = await runCli(['dry-run', file, '--cell', 'preview', '--json']);
        assert.equal(result.code, c.exit, result.stderr + result.stdout.slice(0, 2000));
        assert.ok(!/\n\s+at /.test(result.stderr), `no stack trace:\n${result.stderr}`);
        const report = JSON.parse(result.stdout) as {
          rejected: { line: number; reason: string }[];
          duplicates: { key: string; line: number; firstLine: number }[];
          problems: string[];
        };
        if (c.rejected) {
          const { line, reason } = c.rejected;
          const found = report.rejected.find((r) => r.line === line && r.reason.includes(reason));
          assert.ok(found, `line ${line} rejected for "${reason}"; got ${JSON.stringify(report.rejected)}`);
          assert.ok(found.reason.length < 300, 'the reason is short enough to print and store');
        }
        if (c.duplicate) assert.deepEqual(report.duplicates, [c.duplicate]);
        // A problem is located at the field to change: FILE:LINE: job ID: source: no record would be sent…
        if (c.problem) {
          const located = new RegExp(`^\\S+\\.backfill:\\d+: (job|cell) \\S+: \\w+: ${escape(c.problem)}$`);
          assert.ok(
            report.problems.some((problem) => located.test(problem)),
            JSON.stringify(report.problems),
          );
        }
      });
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
