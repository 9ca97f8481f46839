import { strict as assert } from 'node:assert';
import { resolveConnectionUrl } from '../../../src/core/sources/configText';
import { SecretResolver } from '../../../src/core/secrets/secrets';

describe('connection URLs', () => {
  const ctx = {
    env: {
      HOST: 'db.internal',
      USER: 'app',
      PW: 'from-a-var',
      URL: 'postgresql://app:from-a-var@db.internal/orders',
    },
    secrets: new SecretResolver({
      DB_PASSWORD: 'S3cret',
      DB_URL: 'postgresql://app:S3cret@db.internal/orders',
    }),
  };
  const resolve = (text: string) => resolveConnectionUrl(text, ctx, 'action.url');

  it('takes a password that comes from a secret, or no password', () => {
    assert.equal(resolve('${secret:DB_URL}'), 'postgresql://app:S3cret@db.internal/orders');
    assert.equal(
      resolve('postgresql://app:${secret:DB_PASSWORD}@${env:HOST}/orders'),
      'postgresql://app:S3cret@db.internal/orders',
    );
    assert.equal(resolve('postgresql://app@${env:HOST}/orders'), 'postgresql://app@db.internal/orders');
    // The colon inside `${env:USER}` is not where the password starts.
    assert.equal(
      resolve('postgresql://${env:USER}:${secret:DB_PASSWORD}@${env:HOST}/orders'),
      'postgresql://app:S3cret@db.internal/orders',
    );
    assert.equal(resolve('amqp://127.0.0.1:5672'), 'amqp://127.0.0.1:5672');
  });

  it('refuses a password written out or taken from a var, which the run would record in the clear', () => {
    for (const text of [
      'postgresql://app:hunter2@db.internal/orders',
      'postgresql://app:${env:PW}@db.internal/orders',
      'postgresql://${env:USER}:${env:PW}@db.internal/orders',
      'postgresql://app:hunter2@${env:HOST}/orders',
      'postgresql://app:${secret:DB_PASSWORD}x@db.internal/orders',
      '${env:URL}',
    ]) {
      assert.throws(
        () => resolve(text),
        /action\.url: the connection URL's password does not come from a secret/,
        text,
      );
    }
  });
});
