import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import amqp from 'amqplib';
import { Client } from 'pg';
import { postgresUnavailable, startPostgres } from './postgresServer.mjs';
import { rabbitmqUnavailable, startRabbitmq } from './rabbitmqServer.mjs';

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

describe('test servers', function () {
  this.timeout(120_000);

  it('starts a PostgreSQL that answers queries, refuses a wrong password, and stops it', async function () {
    if (postgresUnavailable()) this.skip();
    const server = await startPostgres({ password: 'correct horse' });
    try {
      const rows = await server.query<{ answer: number }>('SELECT 41 + 1 AS answer');
      assert.equal(rows[0]!.answer, 42);
      const wrong = new Client({ connectionString: server.url.replace('correct%20horse', 'nope') });
      await assert.rejects(wrong.connect(), /password authentication failed/);
    } finally {
      await server.stop();
    }
    assert.ok(await refuses(server.port));
  });

  it('starts a RabbitMQ that takes a message, and kills it with its group', async function () {
    if (rabbitmqUnavailable()) this.skip();
    const broker = await startRabbitmq();
    try {
      const connection = await amqp.connect(broker.url);
      const channel = await connection.createChannel();
      await channel.assertQueue('probe');
      channel.sendToQueue('probe', Buffer.from('hello'));
      const got = await new Promise<string>(
        (resolve) =>
          void channel.consume('probe', (message) => message && resolve(message.content.toString())),
      );
      assert.equal(got, 'hello');
      await connection.close();
    } finally {
      await broker.stop();
    }
    assert.ok(await refuses(broker.port));
  });
});
