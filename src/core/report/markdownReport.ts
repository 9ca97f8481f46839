/**
 * The post-run report as Markdown, for a pull request or a wiki: the same sections as the HTML report,
 * with text sparklines instead of charts. Values from records and reasons are escaped so they cannot
 * become links, emphasis, table cells or HTML; the runbook's own notes are quoted as written.
 */
import { attemptsMarkdown } from './attemptsSection';
import { shortId } from './history';
import type { ReportModel } from './reportModel';
import type { ChecklistReport, RunReport } from './runReport';
import { countsText, formatDuration, formatNumber, formatTime, timeRunning } from './text';
import { badRatePerBucket, peakRate, ratePerBucket } from './timeSeries';

/** Renders the report model as Markdown. */
export function renderMarkdownReport(model: ReportModel): string {
  const sections = [
    header(model),
    summary(model),
    verification(model),
    runs(model.runs),
    interventions(model),
    attemptsMarkdown(model.attempts, md),
    timeline(model),
    reproduce(model),
    recommended(model),
    runbook(model),
    `---\n\nGenerated ${formatTime(model.generatedAt)} by \`backfill report\` from ${md(model.runbookFile)} and its ledger.`,
  ];
  return sections.join('\n\n') + '\n';
}

/** Escapes text for Markdown (tables included): no formatting, link, HTML or cell break can come from it. */
export function md(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_[\]|#<>!~]/g, (char) => (char === '<' ? '&lt;' : char === '>' ? '&gt;' : `\\${char}`));
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function header(model: ReportModel): string {
  const stakeholders = model.stakeholders
    .map((s) => `${md(s.name)}${s.role ? ` — ${md(s.role)}` : ''}${s.contact ? ` (${md(s.contact)})` : ''}`)
    .join('; ');
  return [
    `# ${md(model.title)}`,
    '',
    `Backfill report of \`${model.name}\` (${md(model.runbookFile)}).`,
    '',
    `- **Owner:** ${md(model.owner)}`,
    `- **Stakeholders:** ${stakeholders || 'none listed'}`,
    `- **Generated:** ${formatTime(model.generatedAt)}`,
  ].join('\n');
}

function summary(model: ReportModel): string {
  const rows = model.cells.map((cell) => [
    `\`${cell.id}\``,
    cell.kind,
    cell.outcome ?? 'not run',
    md(countsText(cell.counts)),
    formatTime(cell.startedAt),
    timeRunning(cell),
  ]);
  return `## Summary\n\n${table(['Cell', 'Kind', 'Latest outcome', 'Records (latest run chain)', 'Started', 'Time running'], rows)}`;
}

function verification(model: ReportModel): string {
  const ran = model.verification.filter((report) => report.run);
  if (model.verification.length === 0) return '## Verification\n\nThe runbook has no verify cell.';
  if (ran.length === 0) return '## Verification\n\nNo verification has run yet.';
  const rows = model.verification.map((report) => [
    `\`${report.cell}\``,
    report.outcome ?? 'not run',
    md(countsText(report.counts)),
    formatTime(report.endedAt),
  ]);
  return `## Verification\n\n${table(['Verify cell', 'Outcome', 'Records by status', 'Ended'], rows)}`;
}

function runs(list: RunReport[]): string {
  if (list.length === 0) return '## Runs\n\nNothing has run yet.';
  const rows = list.map((run) => [
    `\`${shortId(run.id)}\``,
    `\`${run.cell}\``,
    run.kind,
    md(run.environment || '—'),
    md(run.operator),
    formatTime(run.startedAt),
    formatTime(run.endedAt),
    formatDuration(run.durationMs),
    md(
      run.rowsAffected !== undefined
        ? `${countsText(run.counts)}; ${formatNumber(run.rowsAffected)} rows affected`
        : countsText(run.counts),
    ),
    run.rate !== undefined ? `${formatNumber(run.rate)}/s` : '—',
    `${run.outcome}${run.reason ? ` — ${md(run.reason)}` : ''}`,
  ]);
  const head = [
    'Run',
    'Cell',
    'Mode',
    'Env',
    'Operator',
    'Started',
    'Ended',
    'Duration',
    'Records this run',
    'Rate',
    'Outcome',
  ];
  const charts = list.filter((run) => run.kind !== 'dry-run' && run.series).map(sparklines);
  return [
    `## Runs\n\n${table(head, rows)}`,
    ...(charts.length > 0
      ? [
          "### Rate and errors over time\n\nOne character per bucket, from each record's outcome time in the ledger.",
          ...charts,
        ]
      : []),
  ].join('\n\n');
}

function sparklines(run: RunReport): string {
  const series = run.series!;
  const failures = series.buckets.reduce((sum, bucket) => sum + bucket.bad, 0);
  const errors = Object.entries(run.errorsByKind).map(([kind, n]) => `${kind} ${n}`);
  return [
    `**Run \`${shortId(run.id)}\`** (${run.cell}, ${run.kind}, ${run.outcome}) — buckets of ${series.bucketSeconds} s`,
    '',
    '```text',
    `rate     ${sparkline(ratePerBucket(series))}  peak ${formatNumber(peakRate(series, run.rate))}/s, average ${run.rate !== undefined ? formatNumber(run.rate) : '—'}/s`,
    `failures ${sparkline(badRatePerBucket(series))}  ${failures} records${errors.length > 0 ? ` (${errors.join(', ')})` : ''}`,
    '```',
  ].join('\n');
}

const BARS = '▁▂▃▄▅▆▇█';

/** One block character per value, scaled to the largest; zero is a space so quiet buckets stand out. */
export function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  return values
    .map((value) => (value <= 0 || max === 0 ? ' ' : BARS[Math.min(7, Math.floor((value / max) * 7.999))]))
    .join('');
}

function interventions(model: ReportModel): string {
  if (model.interventions.length === 0)
    return '## Manual interventions\n\nNone: every run started and finished on its own.';
  const rows = model.interventions.map((i) => [
    formatTime(i.at),
    `\`${i.cell}\``,
    `\`${shortId(i.run)}\``,
    `**${i.kind}** — ${md(i.text)}`,
  ]);
  return `## Manual interventions\n\n${table(['When', 'Cell', 'Run', 'What'], rows)}`;
}

function timeline(model: ReportModel): string {
  const items = model.timeline.map((entry) => `- ${formatTime(entry.at)} — ${md(entry.text)}`);
  return `## Timeline\n\n${items.length > 0 ? items.join('\n') : 'Nothing happened yet.'}`;
}

function reproduce(model: ReportModel): string {
  const lines = model.reproduce
    .map((step) => `# ${step.note.replace(/\n/g, ' ')}\n${step.command}`)
    .join('\n\n');
  const fence = '`'.repeat(Math.max(3, ...(lines.match(/`+/g) ?? []).map((run) => run.length + 1)));
  return `## Steps to reproduce\n\nFrom the runbook's folder, with the same secrets exported:\n\n${fence}sh\n${lines}\n${fence}`;
}

function recommended(model: ReportModel): string {
  const changes = model.recommendedChanges;
  return `## Recommended changes\n\n${changes ? changes.markdown.trim() : 'The runbook records none.'}`;
}

function runbook(model: ReportModel): string {
  const checklists = new Map(model.checklists.map((checklist) => [checklist.id, checklist]));
  const parts = model.document.map((part) => {
    if (part.type === 'notes') return demoteHeadings(part.markdown.trim());
    const checklist = part.kind === 'checklist' ? checklists.get(part.id) : undefined;
    if (checklist) return checklistTable(checklist);
    return `> **${part.kind}** \`${part.id}\` — ${md(part.summary)}${part.description ? ` — ${md(part.description)}` : ''}`;
  });
  return `## The runbook\n\n${parts.join('\n\n')}`;
}

/** The runbook's `#` headings become `###`, below the report's own sections. */
function demoteHeadings(markdown: string): string {
  let inFence = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (/^\s{0,3}(```|~~~)/.test(line)) inFence = !inFence;
      return !inFence && /^#{1,4}\s/.test(line) ? `##${line}` : line;
    })
    .join('\n');
}

function checklistTable(checklist: ChecklistReport): string {
  const rows = checklist.items.map((item) => [
    md(item.item),
    md(item.owner),
    item.required ? 'required' : 'optional',
    item.checked ? `✓ ${md(item.checked.by)}, ${formatTime(item.checked.at)}` : 'not signed',
  ]);
  return table([`Checklist \`${checklist.id}\``, 'Owner', 'Required', 'Signed off'], rows);
}
