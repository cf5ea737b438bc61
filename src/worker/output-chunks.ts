import type { OutputLine } from '../tools/index.js';

/** A running step's new output goes to the server at most this often. */
export const OUTPUT_CHUNK_MS = 500;
/** Text one chunk carries at most (the newest lines are kept, the cut is counted). */
export const OUTPUT_CHUNK_MAX_BYTES = 64 * 1024;

/** What one chunk carries: `{lines, truncated?}` (the shape of a step's `output`). */
export interface OutputChunk {
  readonly lines: readonly OutputLine[];
  readonly truncated?: { readonly lines: number; readonly bytes: number };
}

/**
 * Batches the lines a running command prints into chunks sent at most every `intervalMs`, and
 * only when there is a line to send: a command that prints nothing sends nothing. Chunks go once
 * `open` is called (after the command's `command.started` is posted), in order; `stop` drops what
 * is not sent yet (the command's `call.done` carries every line) and waits for the last send.
 */
export class OutputChunks {
  private lines: OutputLine[] = [];
  private bytes = 0;
  private dropped = { lines: 0, bytes: 0 };
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private opened = false;
  private stopped = false;
  private sending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly send: (chunk: OutputChunk) => Promise<unknown>,
    private readonly intervalMs = OUTPUT_CHUNK_MS,
    private readonly maxBytes = OUTPUT_CHUNK_MAX_BYTES,
    private readonly now: () => number = Date.now,
  ) {}

  push(line: OutputLine): void {
    if (this.stopped) return;
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line.text);
    while (this.bytes > this.maxBytes && this.lines.length > 1) {
      const old = this.lines.shift() as OutputLine;
      const size = Buffer.byteLength(old.text);
      this.bytes -= size;
      this.dropped = { lines: this.dropped.lines + 1, bytes: this.dropped.bytes + size };
    }
    this.schedule();
  }

  /** Chunks may be sent after `after` (the `command.started` post), the first `intervalMs` later. */
  open(after: Promise<unknown>): void {
    if (this.stopped || this.opened) return;
    this.opened = true;
    this.last = this.now();
    this.sending = after.catch(() => undefined);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lines = [];
    await this.sending;
  }

  private schedule(): void {
    if (!this.opened || this.stopped || this.timer || this.lines.length === 0) return;
    const wait = Math.max(0, this.last + this.intervalMs - this.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  private flush(): void {
    this.timer = undefined;
    if (this.stopped || this.lines.length === 0) return;
    const chunk: OutputChunk = {
      lines: this.lines,
      ...(this.dropped.lines > 0 ? { truncated: this.dropped } : {}),
    };
    this.lines = [];
    this.bytes = 0;
    this.dropped = { lines: 0, bytes: 0 };
    this.last = this.now();
    this.sending = this.sending.then(() => this.send(chunk)).catch(() => undefined);
  }
}
