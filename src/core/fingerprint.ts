import { createHash } from 'node:crypto';
import type { ResolvedEnvironment } from './environment';
import type { ResolvedJob } from './job';

/**
 * A job fingerprint ties a dry run to exactly what a real run would do: the normalized definition
 * (source, key, record schema, action or a verify cell's check, subset, environment) and the source
 * content. The throttle is left out on purpose — rate and concurrency can change during a run without
 * changing what is sent.
 * Secret values are never part of it: templates name secrets, they do not hold them.
 */
export interface JobFingerprint {
  definition: string;
  content: string;
  /** Hash of both: what the production gate compares. */
  combined: string;
}

export function fingerprintJob(
  job: ResolvedJob,
  env: ResolvedEnvironment,
  contentHash: string,
): JobFingerprint {
  // A verification is defined by its check, not by the action that wrote the records: fixing the action
  // before re-backfilling the gaps must not orphan the verification that found them.
  const what = job.check ? { check: job.check } : { action: job.action };
  const definition = sha256(canonicalJson({ source: job.source, ...what, subset: job.subset ?? null, env }));
  return { definition, content: contentHash, combined: sha256(`${definition}:${contentHash}`) };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so equal definitions hash equally whatever order they were written in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
