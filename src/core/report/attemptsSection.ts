/**
 * Real runs that did not start — refused by a gate or cancelled at a question — as a report section
 * (Markdown and HTML): who, when, which cell and environment, and which gate or question stopped it.
 * They come from the state folder's attempts file (../ledger/attempts.ts), not from the runs.
 */
import type { Attempt } from '../ledger/attempts';
import { markup, type SafeHtml } from './html';
import { formatTime } from './text';

const TITLE = 'Refused and cancelled attempts';
const NONE = 'None: every real run that was asked for started.';

function environmentOf(attempt: Attempt): string {
  return `${attempt.environment || '(default)'}${attempt.production ? ' (production)' : ''}`;
}

/** The section as Markdown; `md` escapes text the way the rest of the Markdown report does. */
export function attemptsMarkdown(attempts: readonly Attempt[], md: (text: string) => string): string {
  if (attempts.length === 0) return `## ${TITLE}\n\n${NONE}`;
  const rows = attempts.map(
    (a) =>
      `| ${formatTime(a.at)} | ${md(a.operator)} | \`${md(a.cell)}\` | ${md(environmentOf(a))} | ` +
      `**${a.outcome}** by ${md(a.gate)} — ${md(a.reason)} |`,
  );
  return [
    `## ${TITLE}`,
    '',
    '| When | Who | Cell | Environment | What stopped it |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function attemptsHtml(attempts: readonly Attempt[]): SafeHtml {
  const body =
    attempts.length === 0
      ? markup`<p class="muted">${NONE}</p>`
      : markup`<table>
          <thead>
            <tr><th>When</th><th>Who</th><th>Cell</th><th>Environment</th><th>What stopped it</th></tr>
          </thead>
          <tbody>
            ${attempts.map(
              (a) => markup`<tr>
                <td class="nowrap">${formatTime(a.at)}</td>
                <td>${a.operator}</td>
                <td><code>${a.cell}</code></td>
                <td>${environmentOf(a)}</td>
                <td><strong>${a.outcome}</strong> by ${a.gate} — ${a.reason}</td>
              </tr>`,
            )}
          </tbody>
        </table>`;
  return markup`<section id="attempts">
    <h2>${TITLE}</h2>
    ${body}
  </section>`;
}
