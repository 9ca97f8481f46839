/**
 * What each field of a runbook cell means, for the editor's completions and hovers (fieldHelp.ts). The
 * names match the strict schemas in src/core/format/schemas.ts, which reject anything else (a unit test
 * checks every schema field has a text here); a source, action or check kind's fields come from the
 * kind's own descriptor. This file cannot depend on the vscode API.
 */
import { actionFieldHelp } from '../core/actions/actionKinds';
import { checkFieldHelp } from '../core/checks/checkKinds';
import { sourceFieldHelp } from '../core/sources/sourceKinds';

type Fields = Readonly<Record<string, string>>;

/** `csv, jsonl, … or inline`: the registered kinds, as a family's `type` help lists them. */
const kindList = (help: Fields): string => (help.type ?? '').replace(/\.$/, '');

/** The top-level fields of each cell kind (and of the runbook's header). */
export const CELL_FIELDS: Readonly<Record<string, Fields>> = {
  header: {
    title: 'Title of the runbook.',
    name: "The runbook's name: what a production run is confirmed with (lower-case, digits, `.`, `_`, `-`).",
    owner: 'Who runs the backfill.',
    environments: 'Named environments: `{ production?, description?, vars: { NAME: value } }`.',
    defaultEnvironment: 'The environment used when none is chosen (never a production one implicitly).',
    stakeholders:
      'People to inform and ask: `{ name, role?, contact?, key? }`; `key` is their SSH public key line, ' +
      'what their signed sign-offs are verified with.',
    requireSignedSignOffs:
      'When true, a production run refuses any required sign-off not signed (`backfill sign --key`) with ' +
      'its signer’s key from `stakeholders`.',
  },
  job: {
    description: 'What the job does, in words.',
    source: `Where records come from: \`type\` ${kindList(sourceFieldHelp)}, and the record \`key\`.`,
    action: `What is done with each record: \`type\` ${kindList(actionFieldHelp)}.`,
    throttle: 'Rate, concurrency, batch size, timeout and retries.',
    errorBudget:
      'When a run halts by itself: failure ratio over a window, consecutive failures, total failures.',
  },
  'dry-run': {
    description: 'What this dry run checks.',
    job: 'The id of the job cell to dry-run.',
    subset: 'Which records: `first`, `keys`, `keysFile`, `sample`, `range`, `exclude`.',
    throttle: 'Overrides of the job throttle (for the estimate).',
    preview: 'How many requests to render: `first`, `random`, `seed`.',
    successThreshold: 'Share of records that must be valid for the dry run to pass, e.g. 0.999.',
    maxRejected: 'Most rejected (malformed) records the dry run passes with; absent: not limited.',
  },
  execute: {
    description: 'What this run does.',
    job: 'The id of the job cell to run.',
    subset: 'Which records: `first`, `keys`, `keysFile`, `sample`, `range`, `exclude`.',
    throttle: 'Overrides of the job throttle for this run.',
    successThreshold:
      'Share of the records that could be sent (rejected ones left out) that must succeed for the run to ' +
      'count as a success, e.g. 0.9999. Changed after a run, the finished run is judged again, nothing sent.',
    maxRejected:
      'Most rejected (malformed) records the run (and its dry run) may have and still succeed; absent: ' +
      'not limited. Changed after a run, the finished run is judged again, nothing sent.',
    errorBudget: 'Overrides of the job error budget for this run.',
    resend:
      '`delivered`: send again the records another execute cell of this job already delivered ' +
      '(by default they are skipped: "20 skipped: done by small-batch"; `--resend-delivered` once).',
  },
  verify: {
    description: 'What this verification checks.',
    job: 'The id of the job cell whose records are checked.',
    subset: 'Which records to check.',
    throttle: 'Rate and concurrency of the checks.',
    check: `How each record's real end state is read (\`type\` ${kindList(checkFieldHelp)}) and what it must be.`,
  },
};

/** The fields of a mapping, by the key that opens it (`throttle:`, `source:`, …). */
export const NESTED_FIELDS: Readonly<Record<string, Fields>> = {
  // Each kind's fields are documented by the kind itself (src/core/{sources,actions,checks}).
  source: sourceFieldHelp,
  action: actionFieldHelp,
  check: checkFieldHelp,
  throttle: {
    rate: 'Records per second, never exceeded (default 10).',
    concurrency: 'Records in flight at once (default 4).',
    batchSize: 'Records per batch for batch commands (default 100).',
    timeoutMs: 'Timeout of one request or command (default 10000).',
    retries: 'Retries of a failed record, with backoff (default 3).',
    retryOn: 'Which failures are retried: 429, 5xx, timeout, connection.',
  },
  errorBudget: {
    maxFailureRatio: 'Failed share of the last `window` records above which the run halts (default 0.2).',
    window: 'Records the failure ratio is computed over (default 100).',
    maxConsecutiveFailures: 'Failures in a row that halt the run (default 50).',
    maxFailures: 'Total failures that halt the run.',
  },
  subset: {
    first: 'The first N valid records.',
    keys: 'These keys only.',
    keysFile: 'A file with one key per line.',
    sample: 'A seeded random sample: `count` or `percent`, `seed`.',
    range: 'Keys from `from` to `to`.',
    exclude: 'Keys to leave out.',
  },
  preview: {
    first: 'How many of the first records to render (default 3).',
    random: 'How many random records to render (default 3).',
    seed: 'Seed of the random draw.',
  },
};
