// Benchmark: an AMQP backfill — `backfill run` publishes `records` records (a CSV source) to a queue on
// a real RabbitMQ with publisher confirms: a record counts only once the broker confirmed it. Records/s,
// and the queue must then hold exactly one message per record. Needs rabbitmq-server from Debian (about
// 10 s to start), as the tests do.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { startRabbitmq } from '../test/support/rabbitmqServer.mjs';
import { assertExit, measureCli, recordsPerSecondRow } from './support/cli.mjs';
import { freshDir, writeRecords } from './support/runbooks.mjs';

const QUEUE = 'bench-orders';

export async function benchAmqpPublish({ records = 100_000, batchSize = 500, concurrency = 4 } = {}) {
  const broker = await startRabbitmq();
  try {
    const connection = await amqp.connect(broker.url);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(QUEUE, { durable: true });
      const dir = freshDir('amqp-publish');
      await writeRecords(join(dir, 'records.csv'), records);
      const file = join(dir, 'publish.backfill');
      writeFileSync(
        file,
        `---
title: AMQP benchmark
name: amqp-bench
owner: bench
---

\`\`\`job id=publish
source: { type: csv, path: records.csv, key: id, fields: { id: string, amount: number } }
action:
  type: amqp
  url: \${secret:AMQP_URL}
  routingKey: ${QUEUE}
  body: { id: "\${record:id}", amount: "\${record:amount}" }
throttle: { rate: 1000000, concurrency: ${concurrency}, batchSize: ${batchSize}, retries: 0, timeoutMs: 60000 }
\`\`\`

\`\`\`execute id=full
job: publish
\`\`\`
`,
      );
      const result = await measureCli(
        ['run', file, '--cell', 'full', '--execute', '--json', '--no-progress', '--no-write-result'],
        { AMQP_URL: broker.url },
      );
      assertExit(result, 0, 'backfill run (amqp)');
      const { messageCount } = await channel.checkQueue(QUEUE);
      if (messageCount !== records) throw new Error(`the queue holds ${messageCount} of ${records} messages`);
      return [
        recordsPerSecondRow(
          `AMQP publish: ${records.toLocaleString('en-US')} records with confirms, batches of ${batchSize}, concurrency ${concurrency}`,
          records,
          result,
        ),
      ];
    } finally {
      await connection.close();
    }
  } finally {
    await broker.stop();
  }
}
