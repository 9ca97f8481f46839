/**
 * The report's run history in HTML: the runs with their rate and failure charts, the manual
 * interventions and the timeline. Every value is escaped by the `markup` tag.
 */
import { failureChart, rateChart } from './charts';
import { shortId, type Intervention, type TimelineEntry } from './history';
import { markup, type SafeHtml } from './html';
import type { RunReport } from './runReport';
import { countsText, formatDuration, formatNumber, formatTime } from './text';
import { peakRate } from './timeSeries';

/** A coloured outcome label; the colour only repeats what the word says (print and colour-blind safe). */
export function badge(outcome: string): SafeHtml {
  const tone =
    outcome === 'succeeded' || outcome === 'passed'
      ? 'ok'
      : outcome === 'crashed' || outcome === 'failed'
        ? 'bad'
        : outcome === 'running'
          ? 'neutral'
          : 'warn';
  return markup`<span class="badge ${tone}">${outcome}</span>`;
}
export function runsSection(runs: RunReport[]): SafeHtml {
  if (runs.length === 0) {
    return markup`<section id="runs">
      <h2>Runs</h2>
      <p class="muted">Nothing has run yet.</p>
    </section>`;
  }
  const charted = runs.filter((run) => run.kind !== 'dry-run' && run.series);
  return markup`<section id="runs">
    <h2>Runs</h2>
    <table>
      <thead>
        <tr>
          <th>Run</th>
          <th>Cell</th>
          <th>Mode · env</th>
          <th>Operator</th>
          <th>Started (UTC)</th>
          <th class="num">Duration</th>
          <th>Records this run</th>
          <th class="num">Rate</th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        ${runs.map(runRow)}
      </tbody>
    </table>
    ${
      charted.length > 0
        ? markup`<h3>Rate and errors over time</h3>
            <p class="legend">
              Per run, in buckets of a few seconds, from each record's outcome time in the ledger:
              <span class="swatch good"></span>succeeded or verified
              <span class="swatch bad"></span>failed or not right.
              A record sent again by a later run counts in that later run.
            </p>`
        : ''
    }
    ${charted.map(runFigure)}
  </section>`;
}

function runRow(run: RunReport): SafeHtml {
  return markup`<tr>
    <td><code title="${run.id}">${shortId(run.id)}</code></td>
    <td><code>${run.cell}</code></td>
    <td>${run.kind}${run.environment ? markup`<div class="reason">${run.environment}</div>` : ''}</td>
    <td>${run.operator}</td>
    <td class="nowrap">${formatTime(run.startedAt, { zone: false })}</td>
    <td class="num">${formatDuration(run.durationMs)}</td>
    <td>${countsText(run.counts)}${run.rowsAffected !== undefined ? markup`<div class="reason">${formatNumber(run.rowsAffected)} rows affected</div>` : ''}</td>
    <td class="num">${run.rate !== undefined ? `${formatNumber(run.rate)}/s` : '—'}</td>
    <td>${badge(run.outcome)}${run.reason ? markup`<div class="reason">${run.reason}</div>` : ''}</td>
  </tr>`;
}

function runFigure(run: RunReport): SafeHtml {
  const series = run.series!;
  const failures = series.buckets.reduce((sum, bucket) => sum + bucket.bad, 0);
  const errors = Object.entries(run.errorsByKind).map(([kind, n]) => `${kind} ${formatNumber(n)}`);
  const id = shortId(run.id);
  return markup`<figure class="run">
    <figcaption>Run ${id} · ${run.cell} · ${run.kind} · ${badge(run.outcome)}</figcaption>
    <div class="chart-title">Records per second</div>
    ${rateChart(id, series)}
    ${
      failures > 0
        ? markup`<div class="chart-title">Failures per ${formatNumber(series.bucketSeconds)} s</div>
            ${failureChart(`${id}-f`, series)}`
        : ''
    }
    <div class="facts">
      Average ${run.rate !== undefined ? `${formatNumber(run.rate)}/s` : '—'} · peak
      ${formatNumber(peakRate(series, run.rate))}/s · buckets of ${formatNumber(series.bucketSeconds)} s ·
      ${failures > 0 ? `errors: ${errors.join(', ') || formatNumber(failures)}` : 'no failures'} ·
      ${formatNumber(run.retried)} records needed a retry
    </div>
  </figure>`;
}

export function interventionsSection(interventions: Intervention[]): SafeHtml {
  const body =
    interventions.length === 0
      ? markup`<p class="muted">None: every run started and finished on its own.</p>`
      : markup`<table>
          <thead>
            <tr>
              <th>When</th>
              <th>Cell</th>
              <th>Run</th>
              <th>What</th>
            </tr>
          </thead>
          <tbody>
            ${interventions.map(
              (i) =>
                markup`<tr>
                  <td class="nowrap">${formatTime(i.at)}</td>
                  <td><code>${i.cell}</code></td>
                  <td><code>${shortId(i.run)}</code></td>
                  <td><strong>${i.kind}</strong> — ${i.text}</td>
                </tr>`,
            )}
          </tbody>
        </table>`;
  return markup`<section id="interventions">
    <h2>Manual interventions</h2>
    ${body}
  </section>`;
}

export function timelineSection(entries: TimelineEntry[]): SafeHtml {
  const items = entries.map(
    (entry) => markup`<li><time>${formatTime(entry.at)}</time><span>${entry.text}</span></li>`,
  );
  return markup`<section id="timeline">
    <h2>Timeline</h2>
    ${
      items.length > 0
        ? markup`<ol class="timeline">
            ${items}
          </ol>`
        : markup`<p class="muted">Nothing happened yet.</p>`
    }
  </section>`;
}
