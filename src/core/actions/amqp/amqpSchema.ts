/** The fields of `action: { type: amqp }`. This folder cannot depend on the vscode API. */
import { z } from 'zod';

export const amqpActionSchema = z.strictObject({
  type: z.literal('amqp'),
  /** The broker's URL (`amqp://user:password@host:5672/vhost`): `${secret:NAME}`, never in the runbook. */
  url: z.string().min(1),
  /** The exchange to publish to; empty for the default exchange (the routing key is then the queue). */
  exchange: z.string().default(''),
  /** A template (`orders.${record:region}`); record values are text in it, never a pattern. */
  routingKey: z.string(),
  /** The JSON body; string leaves are templates, as in an HTTP action's body. */
  body: z.unknown(),
  /** Messages survive a broker restart (delivery mode 2). */
  persistent: z.boolean().default(true),
});

export type AmqpActionSpec = z.output<typeof amqpActionSchema>;
