/**
 * A catalogue of malformed runbooks, each with the located message it must produce. Used by the format
 * unit tests and by the CLI tests (which also assert exit code 2).
 */

export interface MalformedCase {
  name: string;
  text: string;
  line: number;
  cell?: string;
  field?: string;
  /** A fragment of the message: says what is wrong and what is expected. */
  message: string;
}

const HEADER = '---\ntitle: T\nname: t\nowner: o\n---\n';
const JOB =
  '```job id=orders\nsource:\n  type: inline\n  key: id\n  records: [{ id: "1" }]\naction:\n  type: http\n  url: http://127.0.0.1:1/x\n```\n';
// HEADER is lines 1-5; JOB is lines 6-14; what follows starts at line 15.

/** "Billion laughs": nine levels of nine aliases each, 9^9 strings once expanded. */
function aliasBomb(indent: string): string {
  const levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (const [previous, name] of [...'abcdefgh'].map((p, i) => [p, 'bcdefghi'[i]!])) {
    levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
  }
  return levels.map((line) => indent + line + '\n').join('');
}

export const MALFORMED: MalformedCase[] = [
  {
    name: 'a YAML alias bomb in the header',
    text: HEADER.replace('owner: o\n', 'owner: o\nbomb:\n' + aliasBomb('  ')),
    line: 7,
    field: 'YAML',
    message: 'too many aliases (*name)',
  },
  {
    name: 'a YAML alias bomb in a cell',
    text: HEADER + JOB + '```execute id=full\njob: orders\ndescription:\n' + aliasBomb('  ') + '```\n',
    line: 19,
    cell: 'full',
    field: 'YAML',
    message: 'too many aliases (*name)',
  },
  { name: 'no front matter', text: '# Just notes\n', line: 1, message: 'missing front matter' },
  {
    name: 'unterminated front matter',
    text: '---\ntitle: T\n',
    line: 1,
    message: 'unterminated front matter',
  },
  {
    name: 'header without a name',
    text: '---\ntitle: T\nowner: o\n---\n',
    line: 2,
    field: 'name',
    message: 'required, expected a string',
  },
  {
    name: 'misspelled header field',
    text: '---\ntitle: T\nname: t\nowner: o\nownr: x\n---\n',
    line: 5,
    field: 'ownr',
    message: 'did you mean "owner"',
  },
  {
    name: 'invalid runbook name',
    text: '---\ntitle: T\nname: Has Spaces\nowner: o\n---\n',
    line: 3,
    field: 'name',
    message: 'use lower-case letters',
  },
  {
    name: 'environment production flag of the wrong type',
    text: '---\ntitle: T\nname: t\nowner: o\nenvironments:\n  prod:\n    production: yes please\n---\n',
    line: 7,
    field: 'environments.prod.production',
    message: 'expected true or false',
  },
  {
    name: 'header YAML syntax error',
    text: '---\ntitle: T\nname: [t\nowner: o\n---\n',
    line: 4,
    field: 'YAML',
    message: 'fix the YAML syntax',
  },
  {
    name: 'unknown default environment',
    text: '---\ntitle: T\nname: t\nowner: o\ndefaultEnvironment: staging\n---\n',
    line: 2,
    field: 'defaultEnvironment',
    message: 'unknown environment "staging"',
  },
  {
    name: 'unterminated cell fence',
    text: HEADER + '```job id=a\nsource: {}\n',
    line: 6,
    message: 'unterminated job fence',
  },
  {
    name: 'cell without an id',
    text: HEADER + '```dry-run\njob: orders\n```\n',
    line: 6,
    message: 'has no id',
  },
  {
    name: 'unknown fence attribute',
    text: HEADER + '```dry-run id=a mode=fast\njob: orders\n```\n',
    line: 6,
    message: 'unknown fence attribute "mode"',
  },
  {
    name: 'duplicate cell id',
    text: HEADER + JOB + '```dry-run id=orders\njob: orders\n```\n',
    line: 15,
    cell: 'orders',
    message: 'duplicate cell id "orders": it is already used at line 6',
  },
  {
    name: 'misspelled throttle field',
    text:
      HEADER +
      JOB.replace('```\n', '```\n').replace(
        '  url: http://127.0.0.1:1/x\n',
        '  url: http://127.0.0.1:1/x\nthrottle:\n  concurency: 4\n',
      ),
    line: 15,
    cell: 'orders',
    field: 'throttle.concurency',
    message: 'did you mean "concurrency"',
  },
  {
    name: 'unknown source type',
    text: HEADER + JOB.replace('type: inline', 'type: xml'),
    line: 8,
    cell: 'orders',
    field: 'source.type',
    message: 'expected one of "csv", "jsonl", "json", "sqlite", "postgres", "command", "inline"',
  },
  {
    name: 'source without a key',
    text: HEADER + JOB.replace('  key: id\n', ''),
    line: 7,
    cell: 'orders',
    field: 'source.key',
    message: 'required',
  },
  {
    name: 'rate that is not a number',
    text:
      HEADER +
      JOB.replace('  url: http://127.0.0.1:1/x\n', '  url: http://127.0.0.1:1/x\nthrottle:\n  rate: fast\n'),
    line: 15,
    cell: 'orders',
    field: 'throttle.rate',
    message: 'expected a number, got string "fast"',
  },
  {
    name: 'negative concurrency',
    text:
      HEADER +
      JOB.replace(
        '  url: http://127.0.0.1:1/x\n',
        '  url: http://127.0.0.1:1/x\nthrottle:\n  concurrency: -1\n',
      ),
    line: 15,
    cell: 'orders',
    field: 'throttle.concurrency',
    message:
      '-1 is out of range: must be between 1 and 1,000 (requests or processes at once), a whole number',
  },
  ...(
    [
      ['rate', '1e308', '1e+308 is out of range: must be between 0.00001 and 1,000,000 (records per second)'],
      ['rate', '.inf', 'expected a number, got Infinity'],
      ['concurrency', '100000', '100,000 is out of range: must be between 1 and 1,000'],
      ['retries', '1e9', '1,000,000,000 is out of range: must be between 0 and 100 (retries per record)'],
      ['timeoutMs', '1e12', 'is out of range: must be between 1 and 86,400,000 (milliseconds)'],
      [
        'batchSize',
        '2.5',
        '2.5 is out of range: must be between 1 and 10,000 (records per request or process), a whole number',
      ],
    ] as const
  ).map(([field, value, message]) => ({
    name: `throttle.${field}: ${value}`,
    text:
      HEADER +
      JOB.replace(
        '  url: http://127.0.0.1:1/x\n',
        `  url: http://127.0.0.1:1/x\nthrottle:\n  ${field}: ${value}\n`,
      ),
    line: 15,
    cell: 'orders',
    field: `throttle.${field}`,
    message,
  })),
  {
    name: 'an error budget window too large to hold in memory',
    text: HEADER + JOB + '```execute id=full\njob: orders\nerrorBudget:\n  window: 1e9\n```\n',
    line: 18,
    cell: 'full',
    field: 'errorBudget.window',
    message: 'must be between 1 and 1,000,000 (records)',
  },
  {
    name: 'a subset of no records',
    text: HEADER + JOB + '```dry-run id=few\njob: orders\nsubset:\n  first: 0\n```\n',
    line: 18,
    cell: 'few',
    field: 'subset.first',
    message: '0 is out of range: must be between 1 and 100,000,000 (records)',
  },
  {
    name: 'unknown HTTP method',
    text: HEADER + JOB.replace('  type: http\n', '  type: http\n  method: FETCH\n'),
    line: 13,
    cell: 'orders',
    field: 'action.method',
    message: 'expected one of "GET", "POST"',
  },
  {
    name: 'command action given a shell string',
    text:
      HEADER +
      JOB.replace(
        '  type: http\n  url: http://127.0.0.1:1/x\n',
        '  type: command\n  argv: "curl -X POST http://x"\n',
      ),
    line: 13,
    cell: 'orders',
    field: 'action.argv',
    message: 'expected a list, got string',
  },
  {
    name: 'reference to an unknown job',
    text: HEADER + JOB + '```dry-run id=preview\njob: ordrs\n```\n',
    line: 16,
    cell: 'preview',
    field: 'job',
    message: 'unknown job "ordrs": add a `job id=ordrs` cell or use one of: orders',
  },
  {
    name: 'empty dry-run cell',
    text: HEADER + JOB + '```dry-run id=preview\n```\n',
    line: 15,
    cell: 'preview',
    field: '(cell)',
    message: 'required, expected a mapping',
  },
  {
    name: 'checklist item without an owner',
    text: HEADER + '```checklist id=sign-off\n- item: DBA approves\n  required: true\n```\n',
    line: 7,
    cell: 'sign-off',
    field: '[0].owner',
    message: 'required, expected a string',
  },
  {
    name: 'checklist that is not a list',
    text: HEADER + '```checklist id=sign-off\nitem: DBA approves\n```\n',
    line: 7,
    cell: 'sign-off',
    field: '(cell)',
    message: 'expected a list, got a mapping',
  },
  {
    name: 'success threshold above one',
    text: HEADER + JOB + '```execute id=full\njob: orders\nsuccessThreshold: 99.9\n```\n',
    line: 17,
    cell: 'full',
    field: 'successThreshold',
    message: '99.9 is out of range: must be between 0 and 1 (share of the records)',
  },
  {
    name: 'cell YAML syntax error',
    text: HEADER + JOB + '```execute id=full\njob: orders\n  bad indent: [\n```\n',
    line: 16,
    cell: 'full',
    field: 'YAML',
    message: 'fix the YAML syntax',
  },
  {
    name: 'result block away from its cell',
    text: HEADER + JOB + 'prose\n```result for=orders\nmode: execute\n```\n',
    line: 16,
    cell: 'orders',
    message: 'must directly follow the cell with id=orders',
  },
  {
    name: 'result with an unknown mode',
    text: HEADER + JOB + '```result for=orders\nmode: maybe\n```\n',
    line: 16,
    cell: 'orders',
    field: 'mode',
    message: 'expected one of "dry-run", "execute"',
  },
  {
    name: 'duplicate YAML key in a cell',
    text: HEADER + JOB + '```execute id=full\njob: orders\njob: orders\n```\n',
    line: 17,
    cell: 'full',
    field: 'YAML',
    message: 'Map keys must be unique',
  },
  {
    name: 'field pattern that is not a regular expression',
    text:
      HEADER +
      JOB.replace('  key: id\n', '  key: id\n  fields:\n    id: { type: string, pattern: "([a-z" }\n'),
    line: 11,
    cell: 'orders',
    field: 'source.fields.id.pattern',
    message: 'not a valid regular expression: /([a-z/: Unterminated character class',
  },
];
