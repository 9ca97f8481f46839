/**
 * The items of a line-based file source (CSV, JSON Lines), handed out one at a time by a plain iterator
 * instead of an async generator. A generator step costs a promise and a turn of the microtask queue per
 * yield, and the stream around it (recordStream.ts) and its readers added more for every item: at a
 * million records a run, that was a visible share of the engine's time. Here an item already parsed
 * costs one resolved promise, and lines are parsed one at a time as items are asked for, so a source
 * reports a line's mark (sourceSeek.ts) just before its item is handed out, exactly as a generator did.
 *
 * This file cannot depend on the vscode API.
 */
import type { SourceItem } from '../model/types';
import type { TextLine } from './lineReader';

/** What turns a file's lines into items. */
export interface LineItemReader {
  /** Work before the first line is read (a CSV read from a mark reads its header first). */
  open?(): Promise<void>;
  /** The file's lines in batches; called once, after `open`. */
  lines(): AsyncIterator<TextLine[]>;
  /** Pushes onto `out` the items `line` completes, in order (none, one, or a few). May throw a refusal. */
  itemsOf(line: TextLine, out: SourceItem[]): void;
  /** Pushes onto `out` the items left at the end of the input. */
  end(out: SourceItem[]): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** Iterates `reader`'s items; `onEnd` is called once, when the last line was read and turned into items. */
export function lineItems(reader: LineItemReader, onEnd: () => void): AsyncIterator<SourceItem> {
  return new LineItemIterator(reader, onEnd);
}

class LineItemIterator implements AsyncIterator<SourceItem> {
  private lines: AsyncIterator<TextLine[]> | undefined;
  private batch: TextLine[] = [];
  private nextLine = 0;
  /** Items parsed and not handed out yet: those of one line, usually one. */
  private readonly queue: SourceItem[] = [];
  private nextItem = 0;
  private finished = false;

  constructor(
    private readonly reader: LineItemReader,
    private readonly onEnd: () => void,
  ) {}

  next(): Promise<IteratorResult<SourceItem>> {
    try {
      for (;;) {
        if (this.nextItem < this.queue.length) {
          return Promise.resolve({ done: false, value: this.queue[this.nextItem++]! });
        }
        if (this.nextItem > 0) {
          this.queue.length = 0;
          this.nextItem = 0;
        }
        if (this.nextLine < this.batch.length) {
          this.reader.itemsOf(this.batch[this.nextLine++]!, this.queue);
          continue;
        }
        if (this.finished) return Promise.resolve(DONE);
        return this.pull();
      }
    } catch (error) {
      this.fail();
      return Promise.reject(error as Error);
    }
  }

  async return(): Promise<IteratorResult<SourceItem>> {
    this.stop();
    await this.lines?.return?.(undefined);
    return DONE;
  }

  /** Reads the next batch of lines (or the end of the input), then hands out what it holds. */
  private async pull(): Promise<IteratorResult<SourceItem>> {
    try {
      if (!this.lines) {
        await this.reader.open?.();
        this.lines = this.reader.lines();
      }
      const read = await this.lines.next();
      if (read.done) {
        this.finished = true;
        this.reader.end(this.queue);
        this.onEnd();
      } else {
        this.batch = read.value;
        this.nextLine = 0;
      }
    } catch (error) {
      this.fail();
      throw error;
    }
    return this.next();
  }

  /** A refusal or a read error ends the reading: the file is closed, as a generator's loop closes it. */
  private fail(): void {
    this.stop();
    void this.lines?.return?.(undefined)?.catch(() => undefined);
  }

  private stop(): void {
    this.finished = true;
    this.batch = [];
    this.nextLine = 0;
    this.queue.length = 0;
    this.nextItem = 0;
  }
}
