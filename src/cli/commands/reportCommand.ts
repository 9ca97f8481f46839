import * as fs from 'node:fs';
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
  if (options.out !== undefined) refuseFolder(options.out, format);
  const runbook = loadRunbook(file);
  const redactor = redactorFor(serializeRunbookFile(runbook.text), process.env);
  const model = await loadReportModel(runbook, redactor, {
    place: ledgerPlaceForCommand(runbook, options.env),
  });
  const out = options.out ?? defaultReportPath(file, format);
  try {
    writeReport(out, renderReport(model, format, redactor));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    // Nothing half-written stays behind: the report is written to FILE.PID.tmp, then renamed.
    fs.rmSync(`${path.resolve(out)}.${process.pid}.tmp`, { force: true });
    throw new UserError(`--out ${out}: cannot write the report there (${(error as Error).message})`);
  }
  process.stdout.write(`Report written to ${path.relative(process.cwd(), path.resolve(out)) || out}\n`);
  return ExitCode.ok;
}

/** `--out` names the report's file: a folder there would be replaced, so it is refused before any work. */
function refuseFolder(out: string, format: ReportFormat): void {
  if (fs.statSync(out, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UserError(
      `--out ${out}: is a folder; name the report's file, e.g. --out ${path.join(out, `report.${format}`)}`,
    );
  }
}

function reportFormat(value: string): ReportFormat {
  if (value === 'html' || value === 'md') return value;
  throw new UserError(`--format ${value}: use html or md`);
}
