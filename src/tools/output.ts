import { StringDecoder } from 'node:string_decoder';

export type OutputStream = 'stdout' | 'stderr';

/** One line a step's process printed, with the time it arrived. */
export interface OutputLine {
  /** ISO-8601 time the line's text reached noetl. */
  readonly ts: string;
  readonly stream: OutputStream;
  readonly text: string;
}

/**
 * What a step printed (`ToolResult.output`): the last lines, at most `max_bytes` of text; when
 * older lines were cut, `truncated` says how many lines and bytes.
 */
export interface StepOutput {
  readonly lines: readonly OutputLine[];
  readonly truncated?: { readonly lines: number; readonly bytes: number };
}

/** Where a tool's process writes what it prints (`ToolContext.output`). */
export interface OutputSink {
  write(stream: OutputStream, chunk: Buffer | string): void;
  /** Lines for which `hide` is true are not kept (e.g. the python wrapper's result marker). */
  hideLines(hide: (text: string) => boolean): void;
}

const STREAMS: readonly OutputStream[] = ['stdout', 'stderr'];

/** Default bound of the output kept per step (`NOETL_STEP_OUTPUT_MAX_BYTES`). */
export const DEFAULT_STEP_OUTPUT_MAX_BYTES = 64 * 1024;

/**
 * Collects a step's stdout and stderr as timestamped lines, keeping the tail: older lines go
 * once the text kept exceeds `maxBytes`. A step that prints nothing costs one small object.
 */
export class OutputCollector implements OutputSink {
  private kept: OutputLine[] = [];
  private head = 0;
  private bytes = 0;
  private droppedLines = 0;
  private droppedBytes = 0;
  private readonly partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  private decoders: Partial<Record<OutputStream, StringDecoder>> = {};
  private hide: ((text: string) => boolean) | undefined;

  constructor(
    private readonly maxBytes: number = DEFAULT_STEP_OUTPUT_MAX_BYTES,
    private readonly onLine?: (line: OutputLine) => void,
    private readonly now: () => number = Date.now,
  ) {}

  hideLines(hide: (text: string) => boolean): void {
    this.hide = hide;
  }

  write(stream: OutputStream, chunk: Buffer | string): void {
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else {
      const decoder = (this.decoders[stream] ??= new StringDecoder('utf8'));
      text = decoder.write(chunk);
    }
    if (text === '') return;
    const ts = new Date(this.now()).toISOString();
    let rest = this.partial[stream] + text;
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      this.add({ ts, stream, text: rest.slice(0, nl).replace(/\r$/, '') });
      rest = rest.slice(nl + 1);
      nl = rest.indexOf('\n');
    }
    // A line that never ends is kept in pieces rather than growing without bound.
    if (rest.length > this.maxBytes) {
      this.add({ ts, stream, text: rest });
      rest = '';
    }
    this.partial[stream] = rest;
  }

  /**
   * An empty line held back while a hidden line may follow it on the same stream: the python
   * wrapper writes a newline before its marker, and that empty line must neither be kept nor
   * streamed (with -v or live chunks it would otherwise be shown before the marker is seen).
   */
  private readonly pendingEmpty: Partial<Record<OutputStream, OutputLine>> = {};

  private add(line: OutputLine): void {
    const held = this.pendingEmpty[line.stream];
    if (held) delete this.pendingEmpty[line.stream];
    if (this.hide?.(line.text)) return; // the held empty line was the wrapper's own newline
    if (held) this.keep(held);
    if (this.hide && line.text === '') this.pendingEmpty[line.stream] = line;
    else this.keep(line);
  }

  private keep(line: OutputLine): void {
    let kept = line;
    if (Buffer.byteLength(line.text) > this.maxBytes) {
      const cut = line.text.slice(line.text.length - this.maxBytes);
      this.droppedBytes += Buffer.byteLength(line.text) - Buffer.byteLength(cut);
      kept = { ...line, text: cut };
    }
    this.kept.push(kept);
    this.bytes += Buffer.byteLength(kept.text) + 1;
    while (this.bytes > this.maxBytes && this.head < this.kept.length - 1) {
      const old = this.kept[this.head++] as OutputLine;
      const size = Buffer.byteLength(old.text) + 1;
      this.bytes -= size;
      this.droppedLines += 1;
      this.droppedBytes += size;
    }
    if (this.head > 1024 && this.head * 2 > this.kept.length) {
      this.kept = this.kept.slice(this.head);
      this.head = 0;
    }
    this.onLine?.(kept);
  }

  /** Flushes unfinished lines; the output kept, or undefined when the step printed nothing. */
  end(): StepOutput | undefined {
    let ts: string | undefined; // read once, and only when an unfinished line is left
    // indexed: every step ends here, and a cold process runs it in the interpreter
    for (let i = 0; i < STREAMS.length; i++) {
      const stream = STREAMS[i]!;
      const tail = (this.decoders[stream]?.end() ?? '') + this.partial[stream];
      this.partial[stream] = '';
      if (tail !== '') this.add({ ts: (ts ??= new Date(this.now()).toISOString()), stream, text: tail });
      const held = this.pendingEmpty[stream];
      if (held) this.keep(held); // a real empty last line: no marker followed it
      delete this.pendingEmpty[stream];
    }
    this.decoders = {};
    const lines = this.kept.slice(this.head);
    if (lines.length === 0 && this.droppedLines === 0) return undefined;
    return {
      lines,
      ...(this.droppedLines > 0 || this.droppedBytes > 0
        ? { truncated: { lines: this.droppedLines, bytes: this.droppedBytes } }
        : {}),
    };
  }
}
