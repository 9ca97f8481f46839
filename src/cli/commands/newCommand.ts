import * as fs from 'node:fs';
import * as path from 'node:path';
import { NEW_RUNBOOK_KINDS, newRunbookText } from '../../core/format/newRunbook';
import { UserError } from '../../core/model/types';
import { whoIsActing } from '../identity';

export interface NewOptions {
  name?: string;
  title?: string;
  owner?: string;
  force?: boolean;
  kind?: string;
}

/** `backfill new FILE`: scaffolds a runbook that walks the six steps. Never overwrites without --force. */
export function newCommand(file: string, options: NewOptions): void {
  if (!file.endsWith('.backfill')) throw new UserError(`${file}: a runbook file name ends with .backfill`);
  if (fs.existsSync(file) && !options.force) {
    throw new UserError(`${file} already exists: choose another name, or pass --force to replace it`);
  }
  const name = options.name ?? slug(path.basename(file, '.backfill'));
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new UserError(
      `cannot derive a runbook name from ${file}: pass --name NAME (lower-case letters, digits, - . _)`,
    );
  }
  const kind = options.kind ?? 'http';
  if (!(NEW_RUNBOOK_KINDS as readonly string[]).includes(kind)) {
    throw new UserError(`--kind ${kind}: use one of ${NEW_RUNBOOK_KINDS.join(', ')}`);
  }
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(
    file,
    newRunbookText({
      name,
      owner: options.owner ?? whoIsActing(file),
      kind: kind as (typeof NEW_RUNBOOK_KINDS)[number],
      file,
      ...(options.title ? { title: options.title } : {}),
    }),
    { flag: options.force ? 'w' : 'wx' },
  );
  process.stdout.write(
    `Created ${file} (runbook name: ${name}). Next: edit the job, then run: backfill dry-run ${file}\n`,
  );
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|-+$/g, '');
}
