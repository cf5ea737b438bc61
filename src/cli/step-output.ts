import { commandIdOf, payloadOf, type ExecutionEvent } from '../engine/index.js';
import { isPlainObject } from '../shared/index.js';
import type { OutputLine } from '../tools/index.js';

/** How many of a failed step's last output lines `noetl run` prints. */
export const FAILURE_TAIL_LINES = 12;

/** A failed step as `noetl run` reports it (`--json`: `failure`). */
export interface StepFailure {
  readonly step: string;
  readonly code: string;
  readonly message: string;
  /** The failing line of the step's `code` (python traceback), and where it is in the file. */
  readonly code_line?: { readonly line: number; readonly text: string; readonly file_position?: string };
  /** The step's last output lines (stderr holds a python traceback). */
  readonly output_tail: readonly OutputLine[];
}

/** The ToolResult a `call.done`/`call.error` event carries (`result.context`), if any. */
function toolResultOf(event: ExecutionEvent): Record<string, unknown> | undefined {
  const result = payloadOf(event)['result'];
  if (!isPlainObject(result)) return undefined;
  const context = result['context'];
  return isPlainObject(context) ? context : undefined;
}

function linesOf(toolResult: Record<string, unknown> | undefined): OutputLine[] {
  const output = toolResult?.['output'];
  if (!isPlainObject(output) || !Array.isArray(output['lines'])) return [];
  return (output['lines'] as unknown[]).filter(
    (l): l is OutputLine =>
      isPlainObject(l) && typeof l['text'] === 'string' && typeof l['stream'] === 'string',
  );
}

/**
 * The failing line of a step's inline python code: the last traceback frame in `<step>` (the
 * file name the python tool gives inline code), with the source line python printed under it.
 */
export function failingCodeLine(traceback: string, step: string): { line: number; text: string } | undefined {
  const lines = traceback.split('\n');
  let found: { line: number; text: string } | undefined;
  const frame = `File "<${step}>", line `;
  lines.forEach((l, i) => {
    const at = l.indexOf(frame);
    if (at < 0) return;
    const n = Number.parseInt(l.slice(at + frame.length), 10);
    const next = lines[i + 1] ?? '';
    const text = next.startsWith('    ') && !next.trim().startsWith('File "') ? next.trim() : '';
    if (Number.isFinite(n)) found = { line: n, text };
  });
  return found;
}

/**
 * Where a line of a step's code sits in the playbook file (`line:col`): the first line after the
 * step's `step: NAME` whose text is the code line. Undefined when it cannot be found (code from
 * a template or a script file).
 */
export function filePosition(fileText: string, step: string, codeText: string): string | undefined {
  if (codeText === '') return undefined;
  const lines = fileText.split('\n');
  const stepRe = new RegExp(
    `^\\s*-?\\s*step:\\s*['"]?${step.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]?\\s*$`,
  );
  const start = lines.findIndex((l) => stepRe.test(l));
  if (start < 0) return undefined;
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i] as string;
    if (/^\s*-\s*step:/.test(l)) break;
    if (l.trim() === codeText) return `${i + 1}:${l.length - l.trimStart().length + 1}`;
  }
  return undefined;
}

/** An event as the local log or the server gives it: its output lines lie in `result.context`. */
export interface LooseEvent {
  readonly event_type: string;
  readonly node_name: string;
  readonly result?: unknown;
  readonly context?: unknown;
}

/** The output lines a `call.done`/`call.error` event carries (none for other events). */
export function outputLinesOf(event: LooseEvent): OutputLine[] {
  if (event.event_type !== 'call.done' && event.event_type !== 'call.error') return [];
  return linesOf(toolResultOf(event as ExecutionEvent));
}

/**
 * The output lines of a server's events as they arrive: a running step's chunks
 * (`command.heartbeat` events with `output.lines`, sent by the worker while the step runs), then
 * its `call.done`/`call.error`, which carries every line again: lines a chunk gave are dropped
 * there, so each line is seen once.
 */
export class LiveOutputLines {
  private readonly seen = new Map<string, Set<string>>();

  of(event: LooseEvent & { readonly meta?: unknown }): OutputLine[] {
    const commandId = commandIdOf(event as ExecutionEvent) ?? '';
    const key = (l: OutputLine): string => `${l.ts}\u0000${l.stream}\u0000${l.text}`;
    if (event.event_type === 'command.heartbeat') {
      const output = payloadOf(event as ExecutionEvent)['output'];
      const lines = linesOf(isPlainObject(output) ? { output } : undefined);
      if (lines.length === 0) return [];
      const seen = this.seen.get(commandId) ?? new Set<string>();
      for (const l of lines) seen.add(key(l));
      this.seen.set(commandId, seen);
      return lines;
    }
    const lines = outputLinesOf(event);
    const seen = this.seen.get(commandId);
    if (!seen || lines.length === 0) return lines;
    this.seen.delete(commandId);
    return lines.filter((l) => !seen.has(key(l)));
  }
}

/** Collects each step's output and its failures from the events of a run. */
export class StepOutputs {
  readonly byStep = new Map<string, OutputLine[]>();
  private readonly failed = new Map<string, { code: string; message: string; traceback: string }>();

  onEvent(event: ExecutionEvent): void {
    if (event.event_type !== 'call.done' && event.event_type !== 'call.error') return;
    const toolResult = toolResultOf(event);
    const lines = linesOf(toolResult);
    if (lines.length > 0) {
      const kept = this.byStep.get(event.node_name) ?? [];
      kept.push(...lines);
      this.byStep.set(event.node_name, kept);
    }
    if (event.event_type === 'call.error') {
      const error = payloadOf(event)['error'];
      const info = isPlainObject(error) ? error : {};
      const details = isPlainObject(info['details']) ? info['details'] : {};
      this.failed.set(event.node_name, {
        code: typeof info['code'] === 'string' ? info['code'] : 'TOOL_FAILED',
        message: typeof info['message'] === 'string' ? info['message'] : (event.error ?? 'step failed'),
        traceback: typeof details['traceback'] === 'string' ? details['traceback'] : '',
      });
    }
  }

  /** The failure of `step` (the last one recorded), with its code line and output tail. */
  failure(step: string, fileText?: string): StepFailure | undefined {
    const f = this.failed.get(step);
    if (!f) return undefined;
    const at = failingCodeLine(f.traceback, step);
    const position = at && fileText !== undefined ? filePosition(fileText, step, at.text) : undefined;
    return {
      step,
      code: f.code,
      message: f.message,
      ...(at ? { code_line: { ...at, ...(position ? { file_position: position } : {}) } } : {}),
      output_tail: (this.byStep.get(step) ?? []).slice(-FAILURE_TAIL_LINES),
    };
  }

  /** Failed steps in the order they failed. */
  failedSteps(): string[] {
    return [...this.failed.keys()];
  }

  /** `--json`: every step's output lines. */
  toJson(): Record<string, OutputLine[]> {
    return Object.fromEntries(this.byStep);
  }
}

/** The lines `noetl run` prints under a failed run for one failed step. */
export function formatFailure(f: StepFailure, fileName: string, withMessage = true): string {
  const out: string[] = [];
  if (withMessage) out.push(`step '${f.step}' failed: ${f.message}`);
  if (f.code_line) {
    const where = f.code_line.file_position ? ` (${fileName}:${f.code_line.file_position})` : '';
    out.push(`  failing line ${f.code_line.line} of its code${where}:`);
    if (f.code_line.text) out.push(`    ${f.code_line.text}`);
  }
  if (f.output_tail.length > 0) {
    out.push(`  last output of '${f.step}':`);
    for (const l of f.output_tail) out.push(`    ${l.stream === 'stderr' ? 'err' : 'out'} | ${l.text}`);
  }
  return `${out.join('\n')}\n`;
}

/** Names output lines `step[i]` for a loop's iteration i (from the `command.issued` meta). */
export class OutputLabels {
  private readonly index = new Map<string, number>();

  onEvent(event: { readonly event_type: string; readonly meta?: unknown }): void {
    if (event.event_type !== 'command.issued' || !isPlainObject(event.meta)) return;
    const { command_id: id, iteration_index: at } = event.meta;
    if (typeof id === 'string' && typeof at === 'number') this.index.set(id, at);
  }

  iteration(commandId: unknown): number | undefined {
    return typeof commandId === 'string' ? this.index.get(commandId) : undefined;
  }

  label(step: string, commandId: unknown): string {
    const at = this.iteration(commandId);
    return at === undefined ? step : `${step}[${at}]`;
  }
}

/** `-v`: one printed line of a step's output, prefixed by the step name. */
export function formatOutputLine(step: string, line: OutputLine): string {
  return `[${step}] ${line.stream === 'stderr' ? '!' : '|'} ${line.text}\n`;
}
