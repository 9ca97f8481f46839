/**
 * The bytes of the journal lines appended since the last write, encoded as each line is appended into
 * one reusable buffer. Joining a group's lines into one string and encoding it at the write cost a new
 * string and a new buffer per group, about a tenth of the main thread's time per record; encoding each
 * line into a buffer that is kept costs neither.
 *
 * One buffer is enough: the journal writes the bytes `take` returns synchronously, before anything is
 * added again.
 *
 * This folder cannot depend on the vscode API.
 */
export class PendingBytes {
  private buffer: Buffer;
  private used = 0;

  constructor(private readonly initialSize = INITIAL_SIZE) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  get isEmpty(): boolean {
    return this.used === 0;
  }

  /** Encodes `text` (UTF-8) after the bytes added so far. */
  add(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: room for that is room enough, without measuring.
    const room = text.length * 3;
    if (this.buffer.length - this.used < room) this.grow(room);
    this.used += this.buffer.write(text, this.used, 'utf8');
  }

  /**
   * The bytes added so far, to be written before the next `add` (which reuses their buffer); a buffer
   * grown past what a group commit needs is let go.
   */
  take(): Buffer {
    const bytes = this.buffer.subarray(0, this.used);
    this.used = 0;
    if (this.buffer.length > KEPT_AT_MOST) this.buffer = Buffer.allocUnsafe(this.initialSize);
    return bytes;
  }

  private grow(room: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + room));
    this.buffer.copy(bigger, 0, 0, this.used);
    this.buffer = bigger;
  }
}

/** Enough for the group commit of a few hundred outcomes, the usual group, without growing. */
const INITIAL_SIZE = 64 * 1024;

/**
 * A buffer grown past this (a turn of the event loop that finished thousands of outcomes) is let go after
 * its write rather than kept for the rest of the run.
 */
const KEPT_AT_MOST = 1024 * 1024;
