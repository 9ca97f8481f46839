/**
 * Publishes rendered messages on a confirm channel: a record succeeds only when the broker confirms its
 * message. A nack, a message no queue takes (returned, as `mandatory`), a closed channel or no confirm
 * within the timeout fail the record as retryable — like a 503 — and the retry carries the same
 * `message_id`. The channel is reopened on the next attempt. Never throws for a record. This file cannot
 * depend on the vscode API.
 *
 * amqplib: the maintained AMQP 0-9-1 client, with confirm channels (`waitForConfirms`, per-message
 * callbacks) and no native parts.
 */
import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { AttemptResult } from '../../model/attemptResult';
import { UserError } from '../../model/types';
import { describeUrl, resolveConnectionUrl, scrub, type ConnectionContext } from '../../sources/configText';
import type { AttemptOptions, Failure } from '../attempt';
import { errorMessage, failed, startStopwatch, succeeded } from '../attempt';
import type { ExecutionUnit, Executor } from '../executor';
import type { AmqpActionSpec } from './amqpSchema';

/** Connects (and checks the exchange exists) before the first record: a bad URL stops the run at once. */
export async function createAmqpExecutor(
  spec: AmqpActionSpec,
  opts: { context: ConnectionContext },
): Promise<Executor> {
  const url = resolveConnectionUrl(spec.url, opts.context, 'action.url');
  const link = new Link(url);
  try {
    const channel = await link.channel();
    if (spec.exchange !== '') await channel.checkExchange(spec.exchange);
  } catch (error) {
    await link.close();
    throw new UserError(
      `cannot publish to RabbitMQ at ${describeUrl(url)}: ${scrub(errorMessage(error), url)}`,
    );
  }
  const run = (units: ExecutionUnit[], attempt: AttemptOptions) => publishAll(link, url, units, attempt);
  return {
    mode: 'batch',
    execute: async (preview, record, _ctx, attempt) =>
      (await run([{ key: record.key, line: record.line, fields: record.fields, preview }], attempt)).get(
        record.key,
      )!,
    executeUnits: run,
    setConcurrency: () => undefined,
    close: () => link.close(),
  };
}

/** One connection and one confirm channel, reopened after either closes. */
class Link {
  private connection: ChannelModel | undefined;
  private open: Promise<ConfirmChannel> | undefined;
  /** Message ids the broker returned as unroutable, until their confirm arrives. */
  readonly returned = new Set<string>();
  /** Called with the reason when the channel closes, so waiting publishes fail at once. */
  onClose: ((reason: string) => void) | undefined;

  constructor(private readonly url: string) {}

  channel(): Promise<ConfirmChannel> {
    this.open ??= this.connect().catch((error: unknown) => {
      this.open = undefined;
      throw error;
    });
    return this.open;
  }

  private async connect(): Promise<ConfirmChannel> {
    const connection = await amqp.connect(this.url);
    this.connection = connection;
    connection.on('error', () => undefined);
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    channel.on('return', (message: { properties: { messageId?: string } }) => {
      if (message.properties.messageId) this.returned.add(message.properties.messageId);
    });
    const lost = () => {
      this.open = undefined;
      this.onClose?.('the channel to RabbitMQ closed');
    };
    channel.on('close', lost);
    connection.on('close', lost);
    return channel;
  }

  async close(): Promise<void> {
    this.open = undefined;
    await this.connection?.close().catch(() => undefined);
  }
}

async function publishAll(
  link: Link,
  url: string,
  units: ExecutionUnit[],
  attempt: AttemptOptions,
): Promise<Map<string, AttemptResult>> {
  const results = new Map<string, AttemptResult>();
  const elapsed = startStopwatch();
  let channel: ConfirmChannel;
  try {
    channel = await link.channel();
  } catch (error) {
    const failure = retryable('connection', `cannot connect to RabbitMQ: ${scrub(errorMessage(error), url)}`);
    for (const unit of units) results.set(unit.key, failed(elapsed(), failure));
    return results;
  }
  const waiting = new Map<string, (result: AttemptResult) => void>();
  const done = units.map(
    (unit) =>
      new Promise<void>((resolve) => {
        const settle = (result: AttemptResult) => {
          if (results.has(unit.key)) return;
          results.set(unit.key, result);
          waiting.delete(unit.key);
          resolve();
        };
        waiting.set(unit.key, settle);
        const preview = unit.preview;
        if (preview.type !== 'amqp') {
          settle(
            failed(0, {
              kind: 'other',
              retryable: false,
              message: `internal error: a ${preview.type} preview`,
            }),
          );
          return;
        }
        try {
          channel.publish(
            preview.exchange,
            preview.routingKey,
            Buffer.from(preview.body),
            {
              messageId: preview.messageId,
              contentType: 'application/json',
              persistent: preview.persistent,
              mandatory: true,
            },
            (error: unknown) => {
              if (error)
                settle(
                  failed(elapsed(), {
                    ...retryable('other', 'RabbitMQ refused the message (nack)'),
                    overload: true,
                  }),
                );
              else if (link.returned.delete(preview.messageId)) {
                settle(
                  failed(elapsed(), {
                    kind: 'other',
                    retryable: false,
                    message: `no queue is bound to exchange "${preview.exchange}" for routing key "${preview.routingKey}": the message was returned`,
                  }),
                );
              } else settle(succeeded(elapsed()));
            },
          );
        } catch (error) {
          settle(
            failed(
              elapsed(),
              retryable('connection', `publishing failed: ${scrub(errorMessage(error), url)}`),
            ),
          );
        }
      }),
  );
  const failAll = (failure: Failure) => {
    for (const settle of [...waiting.values()]) settle(failed(elapsed(), failure));
  };
  link.onClose = (reason) => failAll(retryable('connection', reason));
  const timer = setTimeout(
    () => failAll(retryable('timeout', `no confirm from RabbitMQ within ${attempt.timeoutMs} ms`)),
    attempt.timeoutMs,
  );
  const abort = () => failAll({ kind: 'other', retryable: false, message: 'aborted' });
  attempt.signal?.addEventListener('abort', abort, { once: true });
  try {
    await Promise.all(done);
  } finally {
    clearTimeout(timer);
    attempt.signal?.removeEventListener('abort', abort);
  }
  return results;
}

function retryable(kind: Failure['kind'], message: string): Failure {
  return { kind, retryable: true, message };
}
