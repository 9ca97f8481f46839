import { ActionSchema } from '../../../src/core/format/schemas';
import type { ActionSpec } from '../../../src/core/format/schemas';
import type { RenderContext, RenderResult } from '../../../src/core/actions/preview';
import { SecretResolver } from '../../../src/core/secrets/secrets';
import type { ValidRecord } from '../../../src/core/model/types';

/** A hostile record key: it tries to climb a path segment, add a query parameter and a fragment. */
export const TRAVERSAL_KEY = '../admin?x=1#frag';

/** Parses a spec the way a runbook would, so defaults (method, mode, export) apply. */
export function actionSpec(spec: Record<string, unknown>): ActionSpec {
  return ActionSchema.parse(spec);
}

export function record(fields: Record<string, unknown>, key = String(fields.id ?? 'k')): ValidRecord {
  return { key, line: 2, fields };
}

export function renderContext(
  overrides: Partial<RenderContext> & { secretEnv?: Record<string, string> } = {},
): RenderContext {
  const { secretEnv, ...rest } = overrides;
  return {
    env: { BASE_URL: 'https://api.example.com' },
    secrets: new SecretResolver(secretEnv ?? { ORDERS_TOKEN: 'tok-123456' }),
    ...rest,
  };
}

/** Returns the preview, failing the test with the refusal reason when there is none. */
export function previewOf(result: RenderResult) {
  if (!result.ok) throw new Error(`expected a preview, got refusal: ${result.reason}`);
  return result.preview;
}

/** Returns the refusal reason, failing the test when the record was rendered. */
export function reasonOf(result: RenderResult): string {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.preview)}`);
  return result.reason;
}
