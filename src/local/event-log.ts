import { mkdirSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ExecutionEvent } from '../engine/index.js';
import type { SecretValues } from '../shared/index.js';
import { scrubEvent } from './event-scrub.js';

/**
 * The JSONL event log of a local run (`.noetl/runs/<execution_id>.jsonl`). Lines are buffered and
 * appended in batches with one write in flight, so logging costs microseconds per event. Every
 * line is the scrubbed copy of its event (no secret-looking keys, no known secret values).
 */
export class JsonlEventLog {
  private buffer: string[] = [];
  private writing: Promise<void> | undefined;
  private failure: unknown = undefined;

  constructor(
    readonly file: string,
    private readonly secrets?: SecretValues,
  ) {
    mkdirSync(dirname(file), { recursive: true });
  }

  append(events: readonly ExecutionEvent[]): void {
    for (const event of events) this.buffer.push(JSON.stringify(scrubEvent(event, this.secrets)));
    if (!this.writing && this.buffer.length >= 256) this.writing = this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.buffer.length > 0) {
        const chunk = `${this.buffer.join('\n')}\n`;
        this.buffer = [];
        await appendFile(this.file, chunk);
      }
    } catch (err) {
      this.failure = err;
    } finally {
      this.writing = undefined;
    }
  }

  /** Writes everything buffered; rejects if any write failed. */
  async flush(): Promise<void> {
    while (this.writing || this.buffer.length > 0) {
      this.writing ??= this.drain();
      await this.writing;
    }
    if (this.failure !== undefined) {
      throw this.failure instanceof Error ? this.failure : new Error('event log write failed');
    }
  }
}
