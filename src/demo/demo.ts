/**
 * `npm run demo`: the main job on an embedded default. Starts the demo orders service on 127.0.0.1,
 * dry-runs the demo runbook against it, shows that the service received nothing, and stops it.
 */
import * as path from 'node:path';
import { main } from '../cli/main';
import { startOrdersService } from './ordersService';

async function demo(): Promise<number> {
  const runbook = path.join(__dirname, '..', 'runbooks', 'demo.backfill');
  // The demo runbook authenticates with ${secret:ORDERS_API_TOKEN}; the demo service accepts any token.
  process.env.ORDERS_API_TOKEN ??= 'demo-token-for-the-local-service';
  const service = await startOrdersService({ latencyMs: 20, rate429: 0.02, rate500: 0.01 });
  try {
    process.stdout.write(`Demo orders service listening on ${service.url}\n\n`);
    process.stdout.write(`$ backfill check ${path.relative(process.cwd(), runbook)}\n`);
    const checked = await main(['node', 'backfill', 'check', runbook]);
    if (checked !== 0) return checked;
    process.stdout.write(
      `\n$ backfill dry-run ${path.relative(process.cwd(), runbook)} --var BASE_URL=${service.url}\n`,
    );
    const code = await main(['node', 'backfill', 'dry-run', runbook, '--var', `BASE_URL=${service.url}`]);
    process.stdout.write(
      `\nThe orders service received ${service.received.length} requests: a dry run sends nothing.\n` +
        'Execution (backfill run --execute) lands with the runner; see README.md.\n',
    );
    return code;
  } finally {
    await service.stop();
  }
}

demo().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${String(error)}\n`);
    process.exitCode = 70;
  },
);
