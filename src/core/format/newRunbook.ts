/**
 * The template `backfill new` writes: a runbook that walks the six steps of a careful backfill (plan,
 * communicate, test, run and monitor, verify, document), with the questions each step must answer.
 */

export interface NewRunbookOptions {
  /** Runbook name: what a production run must be confirmed with. */
  name: string;
  title?: string;
  owner: string;
  /** What the job does: send HTTP requests (the default) or update a PostgreSQL table with SQL. */
  kind?: 'http' | 'sql';
  /** The runbook's file, as the commands the template quotes name it; default NAME.backfill. */
  file?: string;
}

/** The kinds `backfill new --kind` offers. */
export const NEW_RUNBOOK_KINDS = ['http', 'sql'] as const;

export function newRunbookText({ name, title, owner, kind = 'http', file }: NewRunbookOptions): string {
  const runbookFile = file ?? `${name}.backfill`;
  return `---
title: ${JSON.stringify(title ?? `Backfill: ${name}`)}
name: ${name}
owner: ${JSON.stringify(owner)}
environments:
  staging:
    description: Shadow copy of production for rehearsals
    vars:
      ${kind === 'sql' ? 'CUTOFF: "2026-01-01"' : 'BASE_URL: http://127.0.0.1:8080'}
  production:
    production: true
    vars:
      ${kind === 'sql' ? 'CUTOFF: "2026-01-01"' : 'BASE_URL: https://service.example.internal'}
stakeholders:
  - name: ${JSON.stringify(owner)}
    role: runs the backfill
---

# ${title ?? `Backfill: ${name}`}

## 1. Plan

- **What changes, and why?** One paragraph a stakeholder understands.
- **Systems touched and their owners:** which services, databases and queues; who owns each.
- **Where does the record list come from?** Which query or export; how fresh it must be.
- **How do records reach production?** API, queue, script? What does one request cost the target?
- **What does success mean?** 100 %? 99.99 %? How is a record checked to be right afterwards?
- **What can go wrong?** Load on the target, a partial failure half-way, one malformed record,
  a record sent twice (is the action idempotent?), stale or duplicated input.

The job: where the records come from, what is done with each, and how fast.

${kind === 'sql' ? SQL_JOB : HTTP_JOB}
## 2. Communicate

Stakeholders know when it runs, how fast, how to halt it and whom to call. Required items gate production:
each owner signs theirs (\`backfill sign ${runbookFile} --item halt-known\`, or a click here).

\`\`\`checklist id=sign-off
- id: owners-informed
  item: Owners of every touched system know the window and the rate
  owner: ${JSON.stringify(owner)}
  required: true
- id: halt-known
  item: On-call knows how to halt the backfill (backfill control ${runbookFile} stop)
  owner: ${JSON.stringify(owner)}
  required: true
\`\`\`

## 3. Test

A dry run reads every record, validates it and shows exactly what would be sent — and sends nothing.
A malformed record is rejected at its line and never sent; \`maxRejected\` is how many of them each
cell accepts (0: none) — raise it once you have read the list, or fix the source.

\`\`\`dry-run id=preview
job: main
maxRejected: 10
\`\`\`

Then a small backfill on a safe subset, against staging first.

\`\`\`execute id=small-batch
job: main
subset:
  first: 1
maxRejected: 10
\`\`\`

## 4. Run and monitor

Throttled, with checkpoints; watch the target's dashboards and slow down or stop when they turn red.

\`\`\`execute id=full
job: main
successThreshold: 0.9999
maxRejected: 10
\`\`\`

## 5. Verify

"It processed the record" is not "the record is right": check each record's end state.

${kind === 'sql' ? SQL_VERIFY : HTTP_VERIFY}
## 6. Document

- **Results:** counts, duration, manual interventions, production impact.
- **Steps to reproduce:** the exact commands.
- **Recommended changes:** what would make the next backfill easier.
- **Announcement:** tell stakeholders it is done and where the report is.
`;
}

const HTTP_JOB = `\`\`\`job id=main
source:
  type: inline
  key: id
  fields:
    id: string
  records:
    - id: "1001"
    - id: "1002"
action:
  type: http
  method: POST
  url: \${env:BASE_URL}/records/\${record:id}/reprocess
throttle:
  rate: 10
  concurrency: 2
\`\`\`
`;

const HTTP_VERIFY = `\`\`\`verify id=check
job: main
check:
  type: http
  url: \${env:BASE_URL}/records/\${record:id}
  expect:
    status: 200
\`\`\`
`;

// The connection URL is a secret (one value per environment), never in the file; :name binds a field.
const SQL_JOB = `\`\`\`job id=main
source:
  type: postgres
  url: \${secret:DATABASE_URL}
  query: SELECT id, new_value FROM corrections WHERE created_at < :cutoff
  params:
    cutoff: \${env:CUTOFF}
  key: id
  fields:
    id: integer
    new_value: string
action:
  type: sql
  url: \${secret:DATABASE_URL}
  statement: UPDATE records SET value = :new_value WHERE id = :id
  statementTimeoutMs: 5000
throttle:
  rate: 100
  concurrency: 2
  batchSize: 100
\`\`\`
`;

const SQL_VERIFY = `\`\`\`verify id=check
job: main
check:
  type: postgres
  url: \${secret:DATABASE_URL}
  query: SELECT value FROM records WHERE id = :id
  expect:
    columns:
      value: \${record:new_value}
\`\`\`
`;
