import { describe, expect, it } from 'vitest';
import { outcomeEvents } from './outcome.js';

describe('outcomeEvents', () => {
  it('ends a success with call.done then command.completed, the result as the call context', () => {
    const result = { status: 'success', data: { n: 1 }, duration_ms: 3 };
    expect(outcomeEvents(result)).toEqual([
      { event_type: 'call.done', payload: { call_index: 0, result: { status: 'success', context: result } } },
      { event_type: 'command.completed', payload: { status: 'COMPLETED' } },
    ]);
  });

  it('ends a failure or a timeout with call.error then command.failed, carrying the message', () => {
    const error = { code: 'X', message: 'boom' };
    for (const status of ['error', 'timeout']) {
      const [call, end] = outcomeEvents({ status, error });
      expect(call).toMatchObject({ event_type: 'call.error', error: 'boom', payload: { error } });
      expect(end).toEqual({ event_type: 'command.failed', payload: { error }, error: 'boom' });
    }
    const [, bare] = outcomeEvents({ status: 'error' });
    expect(bare).toEqual({
      event_type: 'command.failed',
      payload: { error: { message: 'tool failed' } },
      error: 'tool failed',
    });
  });
});
