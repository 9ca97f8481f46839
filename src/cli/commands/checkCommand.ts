import { formatIssue } from '../../core/model/issues';
import { UserError } from '../../core/model/types';
import { ExitCode } from '../exitCodes';
import { loadRunbook } from '../loadRunbook';

/** `backfill check FILE`: validates the runbook; exit 0 when valid, 2 with located issues when not. */
export function checkCommand(file: string, options: { json?: boolean }): number {
  try {
    const runbook = loadRunbook(file);
    const cells = runbook.cells.map((c) => ({ id: c.id, kind: c.kind, line: c.line }));
    if (options.json) {
      process.stdout.write(
        JSON.stringify({ ok: true, file, name: runbook.header.name, cells, issues: [] }) + '\n',
      );
    } else {
      process.stdout.write(`${file}: valid runbook "${runbook.header.name}" with ${cells.length} cells\n`);
      for (const cell of cells)
        process.stdout.write(`  ${cell.kind.padEnd(9)} ${cell.id} (line ${cell.line})\n`);
    }
    return ExitCode.ok;
  } catch (error) {
    if (!(error instanceof UserError) || !options.json) throw error;
    process.stdout.write(
      JSON.stringify({
        ok: false,
        file,
        message: error.message,
        issues: error.issues.map((i) => ({ ...i, text: formatIssue(i) })),
      }) + '\n',
    );
    return ExitCode.invalid;
  }
}
