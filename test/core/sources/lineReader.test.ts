import { strict as assert } from 'node:assert';
import { MAX_LINE_CHARS, readLines, type TextLine } from '../../../src/core/sources/lineReader';

async function linesOf(chunks: string[]): Promise<TextLine[]> {
  async function* source() {
    for (const chunk of chunks) yield Buffer.from(chunk);
  }
  const lines: TextLine[] = [];
  for await (const batch of readLines(source())) lines.push(...batch);
  return lines;
}

describe('readLines', () => {
  it('yields a line longer than the limit as too long, without its text, and goes on after it', async () => {
    const long = 'x'.repeat(MAX_LINE_CHARS / 4);
    const lines = await linesOf(['a\n', long, long, long, long, long, '\nb\n']);
    assert.deepEqual(lines, [
      { text: 'a', line: 1 },
      { text: '', line: 2, tooLong: true },
      { text: 'b', line: 3 },
    ]);
  });

  it('yields a last line longer than the limit, without a line break, as too long', async () => {
    const lines = await linesOf(['a\n', 'y'.repeat(MAX_LINE_CHARS + 1)]);
    assert.deepEqual(lines, [
      { text: 'a', line: 1 },
      { text: '', line: 2, tooLong: true },
    ]);
  });

  it('keeps a line of exactly the limit', async () => {
    const lines = await linesOf(['z'.repeat(MAX_LINE_CHARS), '\n']);
    assert.equal(lines[0]?.text.length, MAX_LINE_CHARS);
    assert.equal(lines[0]?.tooLong, undefined);
  });

  it('says a line is too long as soon as it is known, before reading past the rest of it', async () => {
    const long = 'x'.repeat(MAX_LINE_CHARS / 4);
    let chunksRead = 0;
    async function* source() {
      for (const chunk of ['a\n', long, long, long, long, long, long, long, '\n']) {
        chunksRead += 1;
        yield Buffer.from(chunk);
      }
    }
    const reported: { line: number; chunksRead: number }[] = [];
    const lines: TextLine[] = [];
    for await (const batch of readLines(source(), (line) => reported.push({ line, chunksRead })))
      lines.push(...batch);
    assert.deepEqual(reported, [{ line: 2, chunksRead: 6 }], 'told once, at the chunk that passed the limit');
    assert.deepEqual(lines[1], { text: '', line: 2, tooLong: true });
  });
});
