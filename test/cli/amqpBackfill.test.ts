import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import amqp from 'amqplib';
import { runCli, tempDir } from '../support/cli';
import { sleep, startCli } from '../support/cliProcess';
import { rabbitmqUnavailable, startRabbitmq, type RabbitServer } from '../support/rabbitmqServer.mjs';

interface Received {
  messageId: string;
  routingKey: string;
  body: { id: string; amount: number };
}

/** A runbook that publishes each CSV record to exchange `orders` (or `exchange`) with routing key `order.ID`. */
function writeAmqpRunbook(
  dir: string,
  records: number,
  rate: number,
  options: { exchange?: string; retries?: number } = {},
): string {
  const rows = ['id,amount', ...Array.from({ length: records }, (_, i) => `o${i + 1},${i + 1}`)];
  fs.writeFileSync(path.join(dir, 'orders.csv'), rows.join('\n') + '\n');
  const file = path.join(dir, 'publish.backfill');
  fs.writeFileSync(
    file,
    `---
title: Publish orders
name: publish-orders
owner: Tests
environments:
  staging:
    production: false
---

\`\`\`job id=publish
source:
  type: csv
  path: orders.csv
  key: id
  fields:
    amount: number
action:
  type: amqp
  url: \${secret:AMQP_URL}
  exchange: ${options.exchange ?? 'orders'}
  routingKey: order.\${record:id}
  body:
    id: \${record:id}
    amount: \${record:amount}
throttle:
  rate: ${rate}
  concurrency: 2
  batchSize: 10
  retries: ${options.retries ?? 3}
\`\`\`

\`\`\`execute id=full
job: publish
\`\`\`
`,
  );
  return file;
}

describe('AMQP backfill with publisher confirms', function () {
  this.timeout(180_000);
  let broker: RabbitServer;
  let work: ReturnType<typeof tempDir>;
  let connection: amqp.ChannelModel;
  let channel: amqp.Channel;

  before(async function () {
    if (rabbitmqUnavailable()) this.skip();
    broker = await startRabbitmq();
    connection = await amqp.connect(broker.url);
    channel = await connection.createChannel();
    await channel.assertExchange('orders', 'topic', { durable: true });
  });
  after(async () => {
    await connection?.close().catch(() => undefined);
    await broker?.stop();
  });
  beforeEach(async () => {
    work = tempDir();
    await channel.assertQueue('orders-in', { durable: true });
    await channel.bindQueue('orders-in', 'orders', 'order.*');
    await channel.purgeQueue('orders-in');
  });
  afterEach(() => work.cleanup());

  /** Everything in the queue, taken off it. */
  async function drain(): Promise<Received[]> {
    const got: Received[] = [];
    for (;;) {
      const message = await channel.get('orders-in', { noAck: true });
      if (!message) return got;
      got.push({
        messageId: message.properties.messageId as string,
        routingKey: message.fields.routingKey,
        body: JSON.parse(message.content.toString()) as Received['body'],
      });
    }
  }

  async function ledgerKeys(file: string): Promise<Map<string, string>> {
    const result = await runCli([
      'ledger',
      file,
      '--cell',
      'full',
      '--status',
      'succeeded',
      '--format',
      'jsonl',
    ]);
    const rows = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { key: string; idempotencyKey: string });
    return new Map(rows.map((row) => [row.key, row.idempotencyKey]));
  }

  it('publishes every record once, confirmed, with its idempotency key as message_id', async () => {
    const file = writeAmqpRunbook(work.dir, 30, 10_000);
    const result = await runCli(['run', file, '--cell', 'full', '--execute'], {
      env: { AMQP_URL: broker.url },
    });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const got = await drain();
    assert.equal(got.length, 30);
    const keys = await ledgerKeys(file);
    for (const message of got) {
      assert.equal(message.routingKey, `order.${message.body.id}`);
      assert.equal(message.messageId, keys.get(message.body.id));
      assert.equal(message.body.amount, Number(message.body.id.slice(1)));
    }
    assert.equal(new Set(got.map((m) => m.body.id)).size, 30);
  });

  it('fails a record whose message no queue takes, instead of counting it as delivered', async () => {
    await channel.unbindQueue('orders-in', 'orders', 'order.*');
    const file = writeAmqpRunbook(work.dir, 3, 10_000);
    await runCli(['run', file, '--cell', 'full', '--execute'], { env: { AMQP_URL: broker.url } });
    const failed = await runCli([
      'ledger',
      file,
      '--cell',
      'full',
      '--status',
      'failed',
      '--format',
      'jsonl',
    ]);
    assert.equal(failed.stdout.trim().split('\n').length, 3);
    assert.match(failed.stdout, /no queue is bound to exchange \\"orders\\" for routing key \\"order.o1\\"/);
  });

  it('fails a record the broker nacks after its retries, and never counts it delivered', async () => {
    // A queue that holds 5 messages and refuses more: RabbitMQ then nacks the publish (reject-publish).
    await channel.assertExchange('bounded', 'topic', { durable: false });
    await channel.assertQueue('bounded-in', {
      durable: false,
      arguments: { 'x-max-length': 5, 'x-overflow': 'reject-publish' },
    });
    await channel.bindQueue('bounded-in', 'bounded', 'order.*');
    await channel.purgeQueue('bounded-in');
    const file = writeAmqpRunbook(work.dir, 8, 10_000, { exchange: 'bounded', retries: 1 });
    const result = await runCli(['run', file, '--cell', 'full', '--execute'], {
      env: { AMQP_URL: broker.url },
    });
    assert.notEqual(result.code, 0, result.stdout);
    const queued: string[] = [];
    for (;;) {
      const message = await channel.get('bounded-in', { noAck: true });
      if (!message) break;
      queued.push((JSON.parse(message.content.toString()) as Received['body']).id);
    }
    assert.equal(queued.length, 5);
    const delivered = await ledgerKeys(file);
    assert.deepEqual([...delivered.keys()].sort(), [...queued].sort());
    const failed = (
      await runCli(['ledger', file, '--cell', 'full', '--status', 'failed', '--format', 'jsonl'])
    ).stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { key: string; attempts: number; lastError: string });
    assert.equal(failed.length, 3, JSON.stringify(failed));
    for (const record of failed) {
      assert.ok(!queued.includes(record.key), `${record.key} failed but is in the queue`);
      assert.equal(record.attempts, 2, `${record.key}: one try and one retry`);
      assert.match(record.lastError, /RabbitMQ refused the message \(nack\)/);
    }
  });

  it('says the broker refused the login without showing the password, and publishes nothing', async () => {
    const file = writeAmqpRunbook(work.dir, 3, 10_000);
    const url = broker.url.replace('guest:guest', 'guest:Wrong-password-42');
    const result = await runCli(['run', file, '--cell', 'full', '--execute'], { env: { AMQP_URL: url } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /cannot publish to RabbitMQ at 127\.0\.0\.1:\d+/);
    assert.doesNotMatch(result.stderr + result.stdout, /Wrong-password-42/);
    assert.equal((await drain()).length, 0);
  });

  it('retries the records whose channel the broker closed mid-run, and publishes every record', async () => {
    const records = 200;
    const file = writeAmqpRunbook(work.dir, records, 100);
    const run = startCli(['run', file, '--cell', 'full', '--execute'], { AMQP_URL: broker.url });
    const seen: Received[] = [];
    for (let i = 0; i < 200 && seen.length < 40; i++) {
      seen.push(...(await drain()));
      await sleep(50);
    }
    // The broker drops every connection, the test's own too: it reconnects to read the rest.
    broker.closeConnections('closed by the test');
    await sleep(200);
    connection = await amqp.connect(broker.url);
    channel = await connection.createChannel();
    assert.equal(await run.exitedWith, 0, run.stdout() + run.stderr());
    seen.push(...(await drain()));
    assert.ok(seen.length >= records, `${seen.length} messages`);
    const byId = new Map<string, Set<string>>();
    for (const message of seen)
      byId.set(message.body.id, (byId.get(message.body.id) ?? new Set()).add(message.messageId));
    assert.equal(byId.size, records, 'every record was published');
    for (const [id, ids] of byId) assert.equal(ids.size, 1, `${id} was published with one message_id`);
    const keys = await ledgerKeys(file);
    assert.equal(keys.size, records, 'every record succeeded');
  });

  it('after kill -9 mid-run and a resume, every record is published; repeats only keep their message_id', async () => {
    const records = 200;
    const file = writeAmqpRunbook(work.dir, records, 100);
    const env = { AMQP_URL: broker.url };
    const first = startCli(['run', file, '--cell', 'full', '--execute'], env);
    const seen: Received[] = [];
    for (let i = 0; i < 200 && seen.length < 40; i++) {
      seen.push(...(await drain()));
      await sleep(50);
    }
    first.child.kill('SIGKILL');
    assert.equal(await first.exitedWith, 'SIGKILL');
    assert.ok(seen.length < records, 'the kill landed mid-run');
    const resumed = await runCli(['run', file, '--cell', 'full', '--execute'], { env });
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    seen.push(...(await drain()));
    const byId = new Map<string, Set<string>>();
    for (const message of seen) {
      const ids = byId.get(message.body.id) ?? new Set();
      ids.add(message.messageId);
      byId.set(message.body.id, ids);
    }
    assert.equal(byId.size, records, 'every record was published');
    for (const [id, ids] of byId) assert.equal(ids.size, 1, `${id} was published with one message_id`);
    const duplicates = seen.length - records;
    assert.ok(duplicates <= 2 * 10, `only in-flight records repeat (${duplicates} repeats)`);
    const keys = await ledgerKeys(file);
    assert.equal(keys.size, records);
    for (const message of seen) assert.equal(message.messageId, keys.get(message.body.id));
  });
});
