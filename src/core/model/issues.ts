import type { Issue } from './types';

/** `FILE:LINE: cell ID: FIELD: message` — the one shape every located problem is printed in. */
export function formatIssue(issue: Issue): string {
  const parts = [`${issue.file}:${issue.line}`];
  if (issue.cell) parts.push(`cell ${issue.cell}`);
  if (issue.field) parts.push(issue.field);
  parts.push(issue.message);
  return parts.join(': ');
}
