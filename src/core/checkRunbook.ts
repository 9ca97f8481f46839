/**
 * Checks that need more than the schemas: every job's action compiles (template syntax, placeholders),
 * and every `${env:NAME}` it uses is defined by each environment of the runbook. Problems are located at
 * the job cell's field, like schema problems.
 */
import { compileAction } from './actions/preview';
import type { Runbook } from './format/runbook';
import type { Issue } from './types';

export function checkRunbook(runbook: Runbook): Issue[] {
  const issues: Issue[] = [];
  const environments = Object.entries(runbook.header.environments);
  for (const cell of runbook.cells) {
    if (cell.kind !== 'job') continue;
    const action = compileAction(cell.spec.action, { baseDir: runbook.baseDir });
    const at = (field: string) => ({
      file: runbook.file,
      line: cell.locate(['action', ...fieldPath(field)]),
      cell: cell.id,
      field: `action.${field}`,
    });
    for (const issue of action.issues) issues.push({ ...at(issue.field), message: issue.message });
    for (const name of action.references.envNames) {
      const lacking = environments.filter(([, env]) => !(name in env.vars)).map(([envName]) => envName);
      if (environments.length === 0 || lacking.length > 0) {
        issues.push({
          file: runbook.file,
          line: cell.locate(['action']),
          cell: cell.id,
          field: 'action',
          message: `\${env:${name}} is not defined in environment${lacking.length > 1 ? 's' : ''} ${
            lacking.join(', ') || '(none declared)'
          }: add it to their vars`,
        });
      }
    }
  }
  return issues;
}

/** `headers.Authorization` → ['headers', 'Authorization']; `argv[2]` → ['argv', 2]. */
function fieldPath(field: string): PropertyKey[] {
  return field
    .split(/\.|(?=\[)/)
    .filter(Boolean)
    .map((part) => (/^\[\d+\]$/.test(part) ? Number(part.slice(1, -1)) : part));
}
