import { previewLines as describePreview } from '../../core/actions/actionKinds';
import type { DryRunReport, PreviewItem } from '../../core/dryrun/dryRun';

const n = (value: number) => value.toLocaleString('en-US');

/** The human-readable dry-run report: what was read, what is wrong, exactly what would be sent. */
export function formatDryRunReport(report: DryRunReport): string {
  const at = (line: number) => (report.source.path ? `${report.source.path}:${line}` : `line ${line}`);
  const { counts } = report;
  const lines = [
    `Dry run of cell ${report.cell} (job ${report.job}) in environment ${report.environment.name || '(none)'}` +
      `${report.environment.production ? ' [PRODUCTION]' : ''} — nothing was sent.`,
    `  Records: ${n(counts.total)} read, ${n(counts.valid)} valid, ${n(counts.rejected)} rejected, ` +
      `${n(counts.duplicates)} duplicate keys; ${n(counts.selected)} selected to send`,
  ];
  if (report.source.outsideRunbookFolder) {
    lines.push(`  Source outside the runbook's folder: ${report.source.outsideRunbookFolder}`);
  }
  if (report.rejected.length > 0) {
    lines.push(
      `  Rejected${counts.rejected > report.rejected.length ? ` (first ${report.rejected.length})` : ''}:`,
    );
    for (const r of report.rejected)
      lines.push(`    ${at(r.line)}${r.key ? ` key ${r.key}` : ''}: ${r.reason}`);
  }
  if (report.duplicates.length > 0) {
    lines.push(`  Duplicate keys (the first occurrence is kept):`);
    for (const d of report.duplicates)
      lines.push(`    ${at(d.line)}: key ${d.key} first seen at line ${d.firstLine}`);
  }
  if (report.preview.length > 0) {
    lines.push(`  Would send (sample of ${n(counts.selected)}):`);
    for (const item of report.preview) lines.push(...previewLines(item));
  }
  const { estimate } = report;
  lines.push(
    `  Estimate: ${n(estimate.records)} records at ${estimate.rate}/s (concurrency ${estimate.concurrency}) ≈ ${duration(estimate.seconds)}`,
    `  Fingerprint: ${report.fingerprint.combined.slice(0, 16)} (definition ${report.fingerprint.definition.slice(0, 12)}, source ${report.fingerprint.content.slice(0, 12)})`,
  );
  for (const warning of report.warnings) lines.push(`  Warning: ${warning}`);
  if (report.passed) {
    lines.push(`  PASSED${report.ledger ? ` — recorded in ${report.ledger}` : ''}`);
  } else {
    lines.push(`  NOT PASSED${report.ledger ? ` — recorded in ${report.ledger}` : ''}:`);
    for (const problem of report.problems) lines.push(`    - ${problem}`);
  }
  return lines.join('\n') + '\n';
}

function previewLines(item: PreviewItem): string[] {
  const head = `    [${item.why}] key ${item.key} (source line ${item.line})`;
  return [head, ...describePreview(item.send).map((line) => `      ${line}`)];
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
