/**
 * Reading a file source from the middle: where a run records the line starts it passes, and where a
 * resume opens the file again. Only the kinds that read a file line by line honour it (csv, jsonl: their
 * descriptors say `seekable`); the others read from their start whatever is asked.
 *
 * A mark says: the first item that starts at or after line `every·n` starts at `line`, at byte `byte`.
 * Reading from a mark yields exactly the items a full read yields from that line on, with the same line
 * numbers: a JSON Lines line is an item of its own, and a CSV mark is only taken at a line where no
 * quoted field is open (a row starts there), the header being read from the file's start first.
 *
 * This file cannot depend on the vscode API.
 */
import type { LineStart } from './lineReader';

export type { LineStart } from './lineReader';

export interface SourceSeek {
  /** Start reading at this recorded line start instead of the file's first line (a resume). */
  from?: LineStart;
  /** Report the start of the first item at or after every `every`-th line to `found`. */
  marks?: { every: number; found(mark: LineStart): void };
}

/** Tells a reader when a line is at or past the next boundary, and reports the mark it finds there. */
export class MarkFinder {
  private next: number;

  constructor(private readonly marks: SourceSeek['marks']) {
    this.next = marks ? marks.every : Infinity;
  }

  /** True when `line` is at or past the next boundary: the reader checks an item can start there. */
  due(line: number): boolean {
    return line >= this.next;
  }

  /** An item starts at `line`, at `byte` (unknown: the next line is tried). */
  found(line: number, byte: number | undefined): void {
    if (!this.marks || byte === undefined) return;
    this.marks.found({ line, byte });
    this.next = (Math.floor(line / this.marks.every) + 1) * this.marks.every;
  }
}
