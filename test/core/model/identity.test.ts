import { strict as assert } from 'node:assert';
import { decideIdentity, UNKNOWN_IDENTITY } from '../../../src/core/model/identity';

describe('who is acting (one rule for the editor and the command line)', () => {
  const all = {
    explicit: 'Ada',
    operatorVariable: 'ci-bot',
    gitName: 'Grace Hopper',
    gitEmail: 'grace@example.com',
    osUser: 'root',
  };

  it('takes the most explicit source: the flag or setting, then BACKFILL_OPERATOR, then git, then the OS user', () => {
    assert.equal(decideIdentity(all), 'Ada');
    assert.equal(decideIdentity({ ...all, explicit: undefined }), 'ci-bot');
    assert.equal(
      decideIdentity({ ...all, explicit: undefined, operatorVariable: undefined }),
      'Grace Hopper',
    );
    assert.equal(
      decideIdentity({ gitEmail: 'grace@example.com', osUser: 'root' }),
      'grace@example.com',
      'git user.email when user.name is not set',
    );
    assert.equal(decideIdentity({ osUser: 'root' }), 'root');
    assert.equal(decideIdentity({}), UNKNOWN_IDENTITY);
  });

  it('treats a blank value as missing and trims what it records', () => {
    assert.equal(
      decideIdentity({ explicit: '  ', operatorVariable: '', gitName: ' Grace Hopper\n' }),
      'Grace Hopper',
    );
  });

  it('reads a lazy source only when every source before it named no one', () => {
    const read: string[] = [];
    const lazy = (name: string, value: string | undefined) => () => (read.push(name), value);
    assert.equal(
      decideIdentity({
        operatorVariable: 'ci-bot',
        gitName: lazy('gitName', 'Grace'),
        osUser: lazy('os', 'root'),
      }),
      'ci-bot',
    );
    assert.deepEqual(read, []);
    assert.equal(decideIdentity({ gitName: lazy('gitName', undefined), osUser: lazy('os', 'root') }), 'root');
    assert.deepEqual(read, ['gitName', 'os']);
  });
});
