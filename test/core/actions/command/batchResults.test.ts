import { strict as assert } from 'node:assert';
import { LineSplitter, parseResultLine } from '../../../../src/core/actions/command/batchResults';

describe('batch command result lines', () => {
  it('reads success and failure lines, with the retryable flag only when it is true', () => {
    assert.deepEqual(parseResultLine('{"key":"A-1","ok":true}'), { key: 'A-1', ok: true });
    assert.deepEqual(parseResultLine('{"key":"A-2","ok":false,"error":"archived"}'), {
      key: 'A-2',
      ok: false,
      error: 'archived',
      retryable: false,
    });
    assert.deepEqual(parseResultLine('{"key":"A-3","ok":false,"error":"locked","retryable":true}'), {
      key: 'A-3',
      ok: false,
      error: 'locked',
      retryable: true,
    });
  });

  it('accepts a numeric key as the same record key in text', () => {
    assert.deepEqual(parseResultLine('{"key":42,"ok":true}'), { key: '42', ok: true });
  });

  it('explains a failure line that gives no error', () => {
    const result = parseResultLine('{"key":"A-1","ok":false}');
    assert.ok(result && !result.ok);
    assert.match(result.error, /without saying why/);
  });

  it('ignores lines that are not result lines', () => {
    for (const line of [
      'processing 3 records',
      '',
      '[1,2]',
      'null',
      '{"key":"A-1"}',
      '{"ok":true}',
      '{"key":"A-1","ok":"yes"}',
    ]) {
      assert.equal(parseResultLine(line), undefined, line);
    }
  });

  it('splits lines across chunk boundaries, multi-byte characters and CRLF', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    const bytes = Buffer.from('first\r\nsé', 'utf8');
    // Cut inside the two-byte "é".
    splitter.write(bytes.subarray(0, bytes.length - 1));
    splitter.write(Buffer.concat([bytes.subarray(bytes.length - 1), Buffer.from('cond\nlast')]));
    splitter.end();

    assert.deepEqual(lines, ['first', 'sécond', 'last']);
  });

  it('drops a line too long to be a result line instead of buffering it', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.write(Buffer.from('x'.repeat(100_000)));
    splitter.write(Buffer.from('x'.repeat(100_000) + '\n{"key":"A-1","ok":true}\n'));
    splitter.end();

    assert.deepEqual(lines, ['{"key":"A-1","ok":true}']);
  });
});
