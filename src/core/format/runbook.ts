/**
 * A runbook with every block validated: the header, each cell's YAML, each embedded result, and the
 * references between cells. Problems come back as located issues, never as exceptions.
 */
import * as path from 'node:path';
import type { Issue } from '../model/types';
import { parseRunbookFile, type CellKind, type CellSegment, type RunbookFile } from './runbookFile';
import {
  ChecklistCellSchema,
  DryRunCellSchema,
  ExecuteCellSchema,
  HeaderSchema,
  JobCellSchema,
  ResultSchema,
  VerifyCellSchema,
  type ChecklistItem,
  type DryRunCell,
  type ExecuteCell,
  type Header,
  type JobCell,
  type Result,
  type VerifyCell,
} from './schemas';
import { parseYamlBlock } from './yamlBlock';

interface CellBase {
  id: string;
  /** File line of the opening fence. */
  line: number;
  segment: CellSegment;
  /** The last embedded result, if the runbook records one. */
  result?: Result;
  /** File line of the field at `path` inside the cell body, for messages. */
  locate(path: PropertyKey[]): number;
}

export type Cell =
  | (CellBase & { kind: 'job'; spec: JobCell })
  | (CellBase & { kind: 'checklist'; spec: ChecklistItem[] })
  | (CellBase & { kind: 'dry-run'; spec: DryRunCell })
  | (CellBase & { kind: 'execute'; spec: ExecuteCell })
  | (CellBase & { kind: 'verify'; spec: VerifyCell });

export type RunnableCell = Extract<Cell, { kind: 'dry-run' | 'execute' | 'verify' }>;

export interface Runbook {
  /** Path of the runbook file as given. */
  file: string;
  /** Folder that relative paths in the runbook are resolved against. */
  baseDir: string;
  text: RunbookFile;
  header: Header;
  cells: Cell[];
}

const CELL_SCHEMAS = {
  job: JobCellSchema,
  checklist: ChecklistCellSchema,
  'dry-run': DryRunCellSchema,
  execute: ExecuteCellSchema,
  verify: VerifyCellSchema,
} as const;

/** "maxRejected is a field of dry-run and execute cells, not of verify cells", or undefined. */
function otherCellKindsWith(key: string, kind: CellKind): string | undefined {
  const homes = Object.entries(CELL_SCHEMAS)
    .filter(([other, schema]) => other !== kind && 'shape' in schema && key in schema.shape)
    .map(([other]) => other);
  if (homes.length === 0) return undefined;
  const kinds = homes.length === 1 ? homes[0] : `${homes.slice(0, -1).join(', ')} and ${homes.at(-1)}`;
  return `${key} is a field of ${kinds} cells, not of ${kind} cells`;
}

/** Parses and validates a whole runbook. `runbook` is set only when there are no issues. */
export function parseRunbook(text: string, file: string): { runbook?: Runbook; issues: Issue[] } {
  const { doc, issues } = parseRunbookFile(text, file);
  if (!doc) return { issues };

  const header = parseYamlBlock(doc.headerText, HeaderSchema, { file, firstLine: doc.headerLine }, issues);
  const cells: Cell[] = [];
  const results = new Map<string, Result>();
  for (const segment of doc.segments) {
    const firstLine = segment.line + 1;
    if (segment.type === 'result') {
      const parsed = parseYamlBlock(
        segment.body,
        ResultSchema,
        { file, firstLine, cell: segment.for },
        issues,
      );
      if (parsed.ok) results.set(segment.for, parsed.value);
    } else if (segment.type === 'cell') {
      const schema = CELL_SCHEMAS[segment.kind];
      const where = {
        file,
        firstLine,
        emptyLine: segment.line,
        cell: segment.id,
        elsewhere: (key: string) => otherCellKindsWith(key, segment.kind),
      };
      const parsed = parseYamlBlock(segment.body, schema, where, issues);
      if (parsed.ok) {
        cells.push({
          kind: segment.kind,
          id: segment.id,
          line: segment.line,
          segment,
          spec: parsed.value,
          locate: parsed.locate,
        } as Cell);
      }
    }
  }
  for (const cell of cells) {
    const result = results.get(cell.id);
    if (result) cell.result = result;
  }
  // Job cells that failed validation still exist: a reference to one is not also "unknown".
  const jobIds = doc.segments.flatMap((s) => (s.type === 'cell' && s.kind === 'job' ? [s.id] : []));
  if (header.ok) checkReferences(header.value, cells, jobIds, file, issues);
  if (issues.length > 0 || !header.ok) return { issues: sortIssues(issues) };
  return {
    runbook: { file, baseDir: path.dirname(path.resolve(file)), text: doc, header: header.value, cells },
    issues,
  };
}

function checkReferences(header: Header, cells: Cell[], jobs: string[], file: string, issues: Issue[]): void {
  for (const cell of cells) {
    if (cell.kind !== 'dry-run' && cell.kind !== 'execute' && cell.kind !== 'verify') continue;
    if (!jobs.includes(cell.spec.job)) {
      const add = `add a \`job id=${cell.spec.job}\` cell`;
      issues.push({
        file,
        line: cell.locate(['job']),
        cell: cell.id,
        field: 'job',
        message: `unknown job "${cell.spec.job}": ${jobs.length > 0 ? `${add} or use one of: ${jobs.join(', ')}` : add}`,
      });
    }
  }
  for (const cell of cells) {
    if (cell.kind !== 'checklist') continue;
    const seen = new Set<string>();
    cell.spec.forEach((item, index) => {
      const id = checklistItemId(item);
      if (seen.has(id)) {
        issues.push({
          file,
          line: cell.locate([index]),
          cell: cell.id,
          field: `[${index}]`,
          message: `duplicate checklist item id "${id}": give one of them an explicit id`,
        });
      }
      seen.add(id);
    });
  }
  const environments = Object.keys(header.environments);
  if (header.defaultEnvironment && !environments.includes(header.defaultEnvironment)) {
    issues.push({
      file,
      line: 2,
      field: 'defaultEnvironment',
      message: `unknown environment "${header.defaultEnvironment}": use one of: ${environments.join(', ') || '(none)'}`,
    });
  }
}

/** The stable id of a checklist item: its own, or a slug of its text. */
export function checklistItemId(item: ChecklistItem): string {
  return (
    item.id ??
    item.item
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60)
  );
}

function sortIssues(issues: Issue[]): Issue[] {
  return [...issues].sort((a, b) => a.line - b.line);
}

export function findCell(runbook: Runbook, id: string): Cell | undefined {
  return runbook.cells.find((c) => c.id === id);
}

export function isRunnable(cell: Cell): cell is RunnableCell {
  return cell.kind === 'dry-run' || cell.kind === 'execute' || cell.kind === 'verify';
}

export function jobCell(runbook: Runbook, id: string): Extract<Cell, { kind: 'job' }> | undefined {
  return runbook.cells.find((c): c is Extract<Cell, { kind: 'job' }> => c.kind === 'job' && c.id === id);
}

export type { CellKind };
