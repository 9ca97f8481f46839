/**
 * The bytes of the journal lines appended since the last write, encoded as each line is appended into
 * one reusable buffer. Joining a group's lines into one string and encoding it at the write cost a new
 * string and a new buffer per group, about a tenth of the main thread's time per record; encoding each
 * line into a buffer that is kept costs neither.
 *
 * Two buffers take turns: lines go into one while the other is being written, so bytes handed to a
 * write are never changed under it.
 *
 * This folder cannot depend on the vscode API.
 */
export class PendingBytes {
  private current: Buffer;
  private used = 0;
  /** The buffer handed to the write under way, reused once `written` says it is out. */
  private writing: Buffer | undefined;
  private spare: Buffer | undefined;

  constructor(private readonly initialSize = INITIAL_SIZE) {
    this.current = Buffer.allocUnsafe(initialSize);
  }

  get isEmpty(): boolean {
    return this.used === 0;
  }

  /** Encodes `text` (UTF-8) after the bytes added so far. */
  add(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: room for that is room enough, without measuring.
    const room = text.length * 3;
    if (this.current.length - this.used < room) this.grow(room);
    this.used += this.current.write(text, this.used, 'utf8');
  }

  /**
   * The bytes added so far; later lines go to another buffer. The bytes stay as they are until
   * `written` is called (at most one write is under way at a time: the journal's writes are serial).
   */
  take(): Buffer {
    const full = this.current;
    const bytes = full.subarray(0, this.used);
    this.writing = full;
    this.current = this.spare ?? Buffer.allocUnsafe(this.initialSize);
    this.spare = undefined;
    this.used = 0;
    return bytes;
  }

  /** The bytes `take` returned are written: their buffer takes lines again (unless it grew too big). */
  written(): void {
    if (this.writing !== undefined && this.writing.length <= KEPT_AT_MOST) this.spare = this.writing;
    this.writing = undefined;
  }

  private grow(room: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.current.length * 2, this.used + room));
    this.current.copy(bigger, 0, 0, this.used);
    this.current = bigger;
  }
}

/** Enough for the group commit of a few hundred outcomes, the usual group, without growing. */
const INITIAL_SIZE = 64 * 1024;

/**
 * A buffer grown past this (lines appended while a fold held the writes: seconds of outcomes) is let go
 * after its write rather than kept for the rest of the run.
 */
const KEPT_AT_MOST = 1024 * 1024;
