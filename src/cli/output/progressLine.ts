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
    const share = totalBytes ? ` ${Math.min(100, (bytesRead / totalBytes) * 100).toFixed(0)} %` : '';
    this.show(`${records.toLocaleString('en-US')} records read${share}`);
  }

  show(text: string): void {
    if (!this.enabled) return;
    this.stream.write(`\r${this.label}: ${text}\x1b[K`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
