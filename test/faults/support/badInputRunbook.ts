/**
 * Runbooks for the bad-input catalogue: one HTTP job `items` over a CSV, a dry-run cell `preview` and an
 * execute cell `full`, any part of which a case replaces with something broken.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface RunbookParts {
  header?: string;
  source?: string;
  action?: string;
  throttle?: string;
  /** Body of the dry-run cell `preview`. */
  preview?: string;
  /** Body of the execute cell `full`. */
  execute?: string;
}

const HEADER = [
  '---',
  'title: Bad inputs',
  'name: bad-inputs',
  'owner: Tests',
  'environments:',
  '  test:',
  '    vars:',
  '      BASE_URL: http://127.0.0.1:9',
  '---',
].join('\n');

/** A `source:` block of `type` reading `file`, keyed by `id`, with an `amount` number. */
export function sourceBlock(type: string, file: string, extra = ''): string {
  return [
    'source:',
    `  type: ${type}`,
    `  path: ${file}`,
    ...(extra ? [extra] : []),
    '  key: id',
    '  fields:',
    '    id: string',
    '    amount: number',
  ].join('\n');
}

export const HTTP_ACTION = [
  'action:',
  '  type: http',
  '  url: ${env:BASE_URL}/items/${record:id}',
  '  body: { amount: "${record:amount}" }',
].join('\n');

export function badInputRunbook(parts: RunbookParts = {}): string {
  return `${parts.header ?? HEADER}

\`\`\`job id=items
${parts.source ?? sourceBlock('csv', 'records.csv')}
${parts.action ?? HTTP_ACTION}
${parts.throttle ?? 'throttle: { rate: 100 }'}
\`\`\`

\`\`\`dry-run id=preview
${parts.preview ?? 'job: items'}
\`\`\`

\`\`\`execute id=full
${parts.execute ?? 'job: items'}
\`\`\`
`;
}

/** The 1-based line of the first line of `text` that contains `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`"${needle}" is not in the runbook`);
  return index + 1;
}

/** Every file below `dir` (relative path → bytes), to prove that a refused command wrote nothing. */
export function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, file), fs.readFileSync(file));
  }
  return files;
}
