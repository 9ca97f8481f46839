/**
 * Checks that need more than the schemas: every job's action and every verify cell's check compiles
 * (template syntax, placeholders, expectations), and every `${env:NAME}` they use is defined by each
 * environment of the runbook. Problems are located at the cell's field, like schema problems.
 */
import type { ActionIssue } from '../actions/compiledAction';
import { compileAction } from '../actions/preview';
import type { TemplateReferences } from '../actions/template';
import type { Cell, Runbook } from '../format/runbook';
import type { Issue } from '../model/types';
import { compileCheck } from '../checks/checkKinds';
import { undeclaredFieldIssues } from './requiredFields';

export function checkRunbook(runbook: Runbook): Issue[] {
  const issues: Issue[] = [];
  for (const cell of runbook.cells) {
    if (cell.kind === 'job') {
      const action = compileAction(cell.spec.action, { baseDir: runbook.baseDir });
      issues.push(...locatedIssues(runbook, cell, 'action', action.issues, action.references));
      const at = { file: runbook.file, cell: cell.id, line: cell.locate(['action']) };
      issues.push(...undeclaredFieldIssues(cell.spec.source, action, at));
    } else if (cell.kind === 'verify') {
      const check = compileCheck(cell.spec.check);
      issues.push(...locatedIssues(runbook, cell, 'check', check.issues, check.references));
    }
  }
  return issues;
}

/** The compile issues of a cell's `action` or `check`, and the env names some environment lacks. */
function locatedIssues(
  runbook: Runbook,
  cell: Cell,
  root: 'action' | 'check',
  compiled: readonly ActionIssue[],
  references: TemplateReferences,
): Issue[] {
  const issues: Issue[] = compiled.map((issue) => ({
    file: runbook.file,
    line: cell.locate([root, ...fieldPath(issue.field)]),
    cell: cell.id,
    field: `${root}.${issue.field}`,
    message: issue.message,
  }));
  const environments = Object.entries(runbook.header.environments);
  for (const name of references.envNames) {
    const lacking = environments.filter(([, env]) => !(name in env.vars)).map(([envName]) => envName);
    if (environments.length === 0 || lacking.length > 0) {
      issues.push({
        file: runbook.file,
        line: cell.locate([root]),
        cell: cell.id,
        field: root,
        message: `\${env:${name}} is not defined in environment${lacking.length > 1 ? 's' : ''} ${
          lacking.join(', ') || '(none declared)'
        }: add it to their vars`,
      });
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
