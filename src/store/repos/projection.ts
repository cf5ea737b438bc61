import { isPlainObject } from '../../shared/index.js';
import type { CommandStatus, EventInput, ExecutionStatus } from '../records.js';

/**
 * How events move the projections (execution and command rows). Event names are those of
 * contract 3.3; the server normalises older aliases of command events before writing them.
 */

const EXECUTION_STATUS_BY_EVENT: Readonly<Record<string, ExecutionStatus>> = {
  'playbook.completed': 'COMPLETED',
  playbook_completed: 'COMPLETED',
  'workflow.completed': 'COMPLETED',
  'playbook.failed': 'FAILED',
  playbook_failed: 'FAILED',
  'workflow.failed': 'FAILED',
  playbook_cancelled: 'CANCELLED',
  'playbook.cancelled': 'CANCELLED',
  'execution.cancelled': 'CANCELLED',
};

const COMMAND_STATUS_BY_EVENT: Readonly<Record<string, CommandStatus>> = {
  'command.claimed': 'CLAIMED',
  'command.started': 'RUNNING',
  'command.completed': 'COMPLETED',
  'command.failed': 'FAILED',
};

/** The terminal status an event gives its execution, if any. */
export function executionStatusOf(eventType: string): ExecutionStatus | undefined {
  return EXECUTION_STATUS_BY_EVENT[eventType];
}

export function commandStatusOf(eventType: string): CommandStatus | undefined {
  return COMMAND_STATUS_BY_EVENT[eventType];
}

function commandIdIn(value: unknown): string | undefined {
  if (!isPlainObject(value)) return undefined;
  const id = value['command_id'];
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/** The string command id an event is about: explicit, or as NoETL writers place it. */
export function commandKeyOf(event: EventInput): string | undefined {
  if (event.commandKey !== undefined) return event.commandKey;
  return (
    commandIdIn(event.meta) ??
    commandIdIn(event.context) ??
    commandIdIn(isPlainObject(event.result) ? event.result['context'] : undefined)
  );
}
