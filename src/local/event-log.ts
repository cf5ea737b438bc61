import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExecutionEvent } from '../engine/index.js';
import type { SecretValues } from '../shared/index.js';
import { scrubEvent } from './event-scrub.js';

/** Lines written at once. */
const BATCH_LINES = 256;

/**
 * The JSONL event log of a local run (`.noetl/runs/<execution_id>.jsonl`). Lines are buffered and
 * appended in batches of 256 with one synchronous write, so logging costs microseconds per event.
 * (An asynchronous write could not finish while a run of no-op steps went on: every step
 * continues in a microtask, so the whole log was held in memory until the end, and the garbage
 * collector copied each line twice.) Every line is the scrubbed copy of its event (no
 * secret-looking keys, no known secret values). A batch is one string grown line by line (V8
 * keeps it as a rope and flattens it once, at the write): cheaper than an array of lines joined.
 */
export class JsonlEventLog {
  private chunk = '';
  private lines = 0;
  private failure: unknown = undefined;

  constructor(
    readonly file: string,
    private readonly secrets?: SecretValues,
  ) {
    mkdirSync(dirname(file), { recursive: true });
  }

  append(events: readonly ExecutionEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      this.chunk += `${JSON.stringify(scrubEvent(events[i]!, this.secrets))}\n`;
      this.lines++;
    }
    if (this.lines >= BATCH_LINES) this.write();
  }

  private write(): void {
    if (this.lines === 0) return;
    const chunk = this.chunk;
    this.chunk = '';
    this.lines = 0;
    try {
      appendFileSync(this.file, chunk);
    } catch (err) {
      this.failure = err;
    }
  }

  /** Writes everything buffered; rejects if any write failed. */
  flush(): Promise<void> {
    this.write();
    if (this.failure !== undefined) {
      return Promise.reject(
        this.failure instanceof Error ? this.failure : new Error('event log write failed'),
      );
    }
    return Promise.resolve();
  }
}
