/**
 * A single self-overwriting progress line on a terminal (stderr); silent when stderr is not a
 * terminal, so logs and pipes get plain output.
 */
export class ProgressLine {
  private readonly enabled: boolean;
  private shown = false;

  constructor(
    wanted: boolean,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = wanted && stream.isTTY === true;
  }

  update(records: number, bytesRead: number, totalBytes?: number): void {
    if (!this.enabled) return;
    const share = totalBytes ? ` ${Math.min(100, (bytesRead / totalBytes) * 100).toFixed(0)} %` : '';
    this.stream.write(`\r${this.label}: ${records.toLocaleString('en-US')} records read${share}\x1b[K`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
