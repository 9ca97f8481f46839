import * as path from 'node:path';
import { serializeRunbookFile } from '../../core/format/runbookFile';
import { redactorFor } from '../../core/report/knownSecrets';
import {
  defaultReportPath,
  loadReportModel,
  renderReport,
  writeReport,
  type ReportFormat,
} from '../../core/report/report';
import { UserError } from '../../core/model/types';
import { ledgerPlaceForCommand } from '../ledgerPlace';
import { ExitCode } from '../exitCodes';
import { loadRunbook } from '../loadRunbook';

export interface ReportCommandOptions {
  format?: string;
  out?: string;
  env?: string;
}

/**
 * `backfill report FILE --format html|md [--out PATH]`: writes the post-run document (beside the
 * runbook by default) and prints where it is.
 */
export async function reportCommand(file: string, options: ReportCommandOptions): Promise<number> {
  const format = reportFormat(options.format ?? 'html');
  const runbook = loadRunbook(file);
  const redactor = redactorFor(serializeRunbookFile(runbook.text), process.env);
  const model = await loadReportModel(runbook, redactor, {
    place: ledgerPlaceForCommand(runbook, options.env),
  });
  const out = options.out ?? defaultReportPath(file, format);
  writeReport(out, renderReport(model, format, redactor));
  process.stdout.write(`Report written to ${path.relative(process.cwd(), path.resolve(out)) || out}\n`);
  return ExitCode.ok;
}

function reportFormat(value: string): ReportFormat {
  if (value === 'html' || value === 'md') return value;
  throw new UserError(`--format ${value}: use html or md`);
}
