/**
 * The post-run report as one self-contained HTML file: inline CSS and inline SVG, no script, no
 * external asset, laid out for screen and print. Every value is escaped by the `markup` tag; the caller
 * redacts secrets from the model before and from the output after rendering.
 */
import { attemptsHtml } from './attemptsSection';
import { markup, SafeHtml } from './html';
import { REPORT_CSS } from './htmlStyles';
import { badge, interventionsSection, runsSection, timelineSection } from './htmlRunsSection';
import { markdownToHtml } from './markdownToHtml';
import type { DocumentPart } from './notes';
import type { CellReport, ReportModel, VerificationReport } from './reportModel';
import type { ChecklistItemReport, ChecklistReport } from './runReport';
import { countsText, formatDuration, formatNumber, formatTime, timeRunning } from './text';

/** Renders the report model as a complete HTML document. */
export function renderHtmlReport(model: ReportModel): string {
  return markup`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content="backfill report" />
        <title>${model.title} — backfill report</title>
        <style>
          ${new SafeHtml(REPORT_CSS)}
        </style>
      </head>
      <body>
        <main>
          ${masthead(model)} ${summarySection(model)} ${verificationSection(model.verification)}
          ${runsSection(model.runs)} ${interventionsSection(model.interventions)}
          ${attemptsHtml(model.attempts)}
          ${timelineSection(model.timeline)} ${reproduceSection(model)} ${recommendedSection(model)}
          ${runbookSection(model)}
          <footer>
            Generated ${formatTime(model.generatedAt)} by <code>backfill report</code> from
            ${model.runbookFile} and its ledger. Per-record outcomes:
            <code>backfill ledger ${model.runbookFile}</code>.
          </footer>
        </main>
      </body>
    </html> `.value;
}

function masthead(model: ReportModel): SafeHtml {
  const stakeholders = model.stakeholders.map(
    (s) =>
      markup`<div>
        ${s.name}${s.role ? markup` <span class="muted">— ${s.role}</span>` : ''}${s.contact ? markup` <span class="muted">(${s.contact})</span>` : ''}
      </div>`,
  );
  return markup`<header class="masthead">
    <p class="eyebrow">Backfill report · ${model.runbookFile}</p>
    <h1>${model.title}</h1>
    <dl class="meta">
      <dt>Runbook</dt>
      <dd><code>${model.name}</code></dd>
      <dt>Owner</dt>
      <dd>${model.owner}</dd>
      <dt>Stakeholders</dt>
      <dd>${stakeholders.length > 0 ? stakeholders : markup`<span class="muted">none listed</span>`}</dd>
      <dt>Generated</dt>
      <dd>${formatTime(model.generatedAt)}</dd>
    </dl>
  </header>`;
}

function summarySection(model: ReportModel): SafeHtml {
  const runs = model.runs.filter((run) => run.kind !== 'dry-run');
  const dryRuns = model.runs.length - runs.length;
  const runningMs = runs.reduce((sum, run) => sum + (run.durationMs ?? 0), 0);
  const main = [...model.cells].reverse().find((cell) => cell.kind === 'execute' && cell.outcome);
  const tiles = [
    tile(formatNumber(runs.length), `runs (and ${plural(dryRuns, 'dry run')})`),
    tile(formatDuration(runs.length > 0 ? runningMs : undefined), 'time spent running'),
    ...(main
      ? [
          tile(formatNumber(main.counts.succeeded ?? 0), `records succeeded (${main.id})`),
          tile(formatNumber(main.counts.failed ?? 0), `records failed (${main.id})`),
        ]
      : []),
    tile(verificationHeadline(model.verification), 'verification'),
    tile(formatNumber(model.interventions.length), 'manual interventions'),
  ];
  return markup`<section id="summary">
    <h2>Summary</h2>
    <div class="tiles">${tiles}</div>
    <table>
      <thead>
        <tr>
          <th>Cell</th>
          <th>Kind</th>
          <th>Latest outcome</th>
          <th>Records (latest run chain)</th>
          <th>Started</th>
          <th class="num">Time running</th>
        </tr>
      </thead>
      <tbody>
        ${model.cells.map(cellRow)}
      </tbody>
    </table>
  </section>`;
}

function plural(count: number, noun: string): string {
  return `${formatNumber(count)} ${noun}${count === 1 ? '' : 's'}`;
}

function tile(value: string, label: string): SafeHtml {
  return markup`<div class="tile">
    <div class="value">${value}</div>
    <div class="label">${label}</div>
  </div>`;
}

function cellRow(cell: CellReport): SafeHtml {
  return markup`<tr>
    <td>
      <code>${cell.id}</code>${cell.description ? markup`<div class="reason">${cell.description}</div>` : ''}
    </td>
    <td>${cell.kind}</td>
    <td>${cell.outcome ? badge(cell.outcome) : markup`<span class="muted">not run</span>`}</td>
    <td>${countsText(cell.counts)}</td>
    <td class="nowrap">${formatTime(cell.startedAt)}</td>
    <td class="num">${timeRunning(cell)}</td>
  </tr>`;
}

function verificationHeadline(reports: VerificationReport[]): string {
  const ran = reports.filter((report) => report.run);
  if (ran.length === 0) return 'not run';
  const verified = ran.reduce((sum, report) => sum + (report.counts.verified ?? 0), 0);
  const checked = ran.reduce(
    (sum, report) => sum + Object.values(report.counts).reduce((a, b) => a + b, 0),
    0,
  );
  return `${formatNumber(verified)} / ${formatNumber(checked)}`;
}

function verificationSection(reports: VerificationReport[]): SafeHtml {
  const ran = reports.filter((report) => report.run);
  const body =
    reports.length === 0
      ? markup`<p class="muted">
          The runbook has no verify cell: the end state of the records was not checked by this tool.
        </p>`
      : ran.length === 0
        ? markup`<p class="muted">No verification has run yet (${reports.map((r) => r.cell).join(', ')}).</p>`
        : markup`<table>
            <thead>
              <tr>
                <th>Verify cell</th>
                <th>Outcome</th>
                <th>Records by status</th>
                <th>Ended</th>
              </tr>
            </thead>
            <tbody>
              ${reports.map(
                (report) =>
                  markup`<tr>
                    <td><code>${report.cell}</code></td>
                    <td>
                      ${report.outcome ? badge(report.outcome) : markup`<span class="muted">not run</span>`}
                    </td>
                    <td>${countsText(report.counts)}</td>
                    <td class="nowrap">${formatTime(report.endedAt)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`;
  return markup`<section id="verification">
    <h2>Verification</h2>
    ${body}
  </section>`;
}

function reproduceSection(model: ReportModel): SafeHtml {
  const lines = model.reproduce.map((step) => `# ${step.note}\n${step.command}`).join('\n\n');
  return markup`<section id="reproduce">
    <h2>Steps to reproduce</h2>
    <p>
      From the runbook's folder, with the same secrets exported, these commands repeat what was done, in
      order:
    </p>
    <pre><code>${lines}</code></pre>
  </section>`;
}

function recommendedSection(model: ReportModel): SafeHtml {
  const changes = model.recommendedChanges;
  return markup`<section id="recommended-changes">
    <h2>Recommended changes</h2>
    ${
      changes
        ? markdownToHtml(changes.markdown, { headingShift: 2 })
        : markup`<p class="muted">
            The runbook records none: add a "Recommended changes" section to its notes.
          </p>`
    }
  </section>`;
}

function runbookSection(model: ReportModel): SafeHtml {
  const checklists = new Map(model.checklists.map((checklist) => [checklist.id, checklist]));
  return markup`<section id="runbook">
    <h2>The runbook</h2>
    <p class="muted">
      The plan notes as written, with each cell in its place and each checklist with its sign-offs.
    </p>
    <div class="notes">${model.document.map((part) => documentPart(part, model, checklists))}</div>
  </section>`;
}

function documentPart(
  part: DocumentPart,
  model: ReportModel,
  checklists: Map<string, ChecklistReport>,
): SafeHtml {
  if (part.type === 'notes') return markdownToHtml(part.markdown, { headingShift: 2 });
  const checklist = part.kind === 'checklist' ? checklists.get(part.id) : undefined;
  if (checklist) return checklistTable(checklist);
  const latest = model.cells.find((cell) => cell.id === part.id);
  return markup`<div class="cell-card">
    <span class="kind">${part.kind}</span> <code>${part.id}</code> — ${part.summary}
    ${part.description ? markup`<div class="reason">${part.description}</div>` : ''}
    ${latest?.outcome ? markup`<div>Latest: ${badge(latest.outcome)} ${countsText(latest.counts)}</div>` : ''}
  </div>`;
}

function checklistTable(checklist: ChecklistReport): SafeHtml {
  return markup`<table class="checklist">
    <thead>
      <tr>
        <th>Checklist <code>${checklist.id}</code></th>
        <th>Owner</th>
        <th>Required</th>
        <th>Signed off</th>
      </tr>
    </thead>
    <tbody>
      ${checklist.items.map(checklistRow)}
    </tbody>
  </table>`;
}

function checklistRow(item: ChecklistItemReport): SafeHtml {
  const signed = item.checked
    ? markup`<span class="badge ok">✓ ${item.checked.by}</span>
        <span class="reason">${formatTime(item.checked.at)}</span>`
    : markup`<span class="badge ${item.required ? 'bad' : 'neutral'}">not signed</span>`;
  return markup`<tr>
    <td>${item.item}</td>
    <td>${item.owner}</td>
    <td>${item.required ? 'required' : 'optional'}</td>
    <td>${signed}</td>
  </tr>`;
}
