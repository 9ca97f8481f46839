/**
 * The HTTP action: one request per record, templated so a record value is exactly one URL segment or
 * JSON value and never a header line. This folder cannot depend on the vscode API.
 */
import type { ActionKind } from '../actionKind';
import type { HttpPreview } from '../compiledAction';
import { recordModeExecutor, wrongPreview } from '../executor';
import { Redactor } from '../../secrets/secrets';
import { withEnv } from '../targetText';
import { compileHttpAction } from './httpAction';
import { createHttpExecutor } from './httpExecutor';
import { httpActionSchema } from './httpSchema';

export const httpAction: ActionKind<typeof httpActionSchema, HttpPreview> = {
  type: 'http',
  schema: httpActionSchema,
  compile: (spec) => compileHttpAction(spec),
  createExecutor: (_spec, opts) => {
    // The run's redactor, so an error body is redacted before it is cut (a secret split by the cut
    // would no longer be recognised).
    const http = createHttpExecutor({
      maxSockets: opts.concurrency,
      ...(opts.context ? { redactor: new Redactor(opts.context.secrets) } : {}),
    });
    return recordModeExecutor(opts, {
      execute: (preview, _record, _ctx, attempt) =>
        preview.type === 'http'
          ? http.execute(preview, attempt)
          : Promise.resolve(wrongPreview('http', preview)),
      setConcurrency: (concurrency) => http.setMaxSockets(concurrency),
      close: () => http.close(),
    });
  },
  recordsPerAttempt: () => 1,
  describe: (spec, vars) => `${spec.method} ${withEnv(spec.url, vars)}`,
  previewLines: (send) => [
    `${send.method} ${send.url}`,
    ...Object.entries(send.headers).map(([name, value]) => `${name}: ${value}`),
    ...(send.body !== undefined ? [send.body] : []),
  ],
  fieldHelp: {
    method: 'GET, POST (default), PUT, PATCH or DELETE.',
    url: 'URL template: `${env:NAME}`, `${record:FIELD}` (one encoded path segment), `${secret:NAME}`.',
    headers: 'Header templates; a value with a line break is refused.',
    body: 'A JSON body; string leaves are templates and stay one JSON value.',
  },
};
