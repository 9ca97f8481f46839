import { hash } from 'node:crypto';
import type { ResolvedEnvironment } from './environment';
import type { ResolvedJob } from './job';

/**
 * A job fingerprint ties a dry run to exactly what a real run would do: the normalized definition
 * (source, key, record schema, action or a verify cell's check, environment) and the source content.
 * The throttle is left out on purpose — rate and concurrency can change during a run without changing
 * what is sent. So is the subset: a small batch and the full run send the same records the same way,
 * so one dry run of the job covers both, and a record keeps its idempotency key from one to the other.
 * Secret values are never part of it: templates name secrets, they do not hold them.
 */
export interface JobFingerprint {
  definition: string;
  content: string;
  /** Hash of both: what the production gate compares. */
  combined: string;
  /** Hash of the cell's subset: which of the job's records a cell selects (for record counts). */
  subset: string;
}

export function fingerprintJob(
  job: ResolvedJob,
  env: ResolvedEnvironment,
  contentHash: string,
): JobFingerprint {
  // A verification is defined by its check, not by the action that wrote the records: fixing the action
  // before re-backfilling the gaps must not orphan the verification that found them.
  const what = job.check ? { check: job.check } : { action: job.action };
  const definition = sha256(canonicalJson({ source: job.source, ...what, env }));
  return {
    definition,
    content: contentHash,
    combined: sha256(`${definition}:${contentHash}`),
    subset: sha256(canonicalJson(job.subset ?? null)),
  };
}

/**
 * SHA-256 of the text's UTF-8 bytes, in hex. One call with no Hash object: every record's idempotency
 * key is one, and `createHash` made three objects per record for the same digest.
 */
export function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

/** JSON with object keys sorted, so equal definitions hash equally whatever order they were written in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
