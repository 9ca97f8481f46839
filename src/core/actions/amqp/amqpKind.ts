/**
 * The AMQP action: publish each record's message to a RabbitMQ exchange with publisher confirms, the
 * idempotency key as its `message_id`. This folder cannot depend on the vscode API.
 *
 * Client: `amqplib`, the long-maintained AMQP 0-9-1 client: confirm channels with a callback per message,
 * no native parts, bundles with esbuild.
 */
import { SecretResolver } from '../../secrets/secrets';
import type { ActionKind } from '../actionKind';
import { withEnv } from '../targetText';
import { compileAmqpAction } from './amqpAction';
import { createAmqpExecutor } from './amqpExecutor';
import { amqpPreviewLines, type AmqpPreview } from './amqpPreview';
import { amqpActionSchema } from './amqpSchema';

export const amqpAction: ActionKind<typeof amqpActionSchema, AmqpPreview> = {
  type: 'amqp',
  schema: amqpActionSchema,
  compile: (spec) => compileAmqpAction(spec),
  createExecutor: (spec, opts) =>
    createAmqpExecutor(spec, { context: opts.context ?? { env: {}, secrets: new SecretResolver({}) } }),
  // The messages of a batch are published together and their confirms awaited together.
  recordsPerAttempt: (_spec, batchSize) => batchSize,
  describe: (spec, vars) =>
    `publish to exchange "${spec.exchange}" routing key ${withEnv(spec.routingKey, vars)}`,
  previewLines: amqpPreviewLines,
  fieldHelp: {
    url: 'Broker URL `amqp://user:password@host:5672/vhost`, as `${secret:NAME}`.',
    exchange:
      'Exchange to publish to; empty (default) for the default exchange, where the routing key names the queue.',
    routingKey: 'Routing key template, e.g. `orders.${record:region}`.',
    body: 'A JSON body; string leaves are templates and stay one JSON value.',
    persistent: 'Messages survive a broker restart (default true).',
  },
};
