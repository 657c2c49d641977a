/**
 * A one-line progress bar for terminals; on anything else (pipes, CI logs) it prints nothing
 * per batch, so logs keep one line per epoch.
 */
export class ProgressLine {
  private active = false;
  constructor(private readonly out: NodeJS.WriteStream, private readonly width = 30) {}

  update(fraction: number, text: string): void {
    if (!this.out.isTTY) return;
    const f = Math.max(0, Math.min(1, fraction));
    const full = Math.round(f * this.width);
    const bar = '█'.repeat(full) + '░'.repeat(this.width - full);
    this.out.write(`\r${bar} ${(100 * f).toFixed(0).padStart(3)}%  ${text}\x1b[K`);
    this.active = true;
  }

  done(): void {
    if (this.active) this.out.write('\n');
    this.active = false;
  }
}
