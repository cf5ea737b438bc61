/**
 * How a tool's outcome becomes events (contract 3.2): a success is `call.done` then
 * `command.completed`; anything else is `call.error` then `command.failed`. One function for the
 * worker (which posts them) and the local runner (which folds them), so both modes record the
 * same events for the same outcome.
 */

/** What the events need of a tool's result (the tools part's `ToolResult` has this shape). */
export interface ToolOutcome {
  readonly status: string;
  readonly error?: { readonly message?: string } | null;
}

export interface OutcomeEvent {
  readonly event_type: 'call.done' | 'call.error' | 'command.completed' | 'command.failed';
  readonly payload: Readonly<Record<string, unknown>>;
  /** The error message, for the event's `error` column (failures only). */
  readonly error?: string;
}

/** The two events that end a command with this outcome, in order. */
export function outcomeEvents(result: ToolOutcome): readonly [OutcomeEvent, OutcomeEvent] {
  if (result.status === 'success') {
    return [
      { event_type: 'call.done', payload: { call_index: 0, result: { status: 'success', context: result } } },
      { event_type: 'command.completed', payload: { status: 'COMPLETED' } },
    ];
  }
  const message = result.error?.message ?? 'tool failed';
  return [
    {
      event_type: 'call.error',
      payload: { call_index: 0, error: result.error ?? null, result: { status: 'error', context: result } },
      error: message,
    },
    { event_type: 'command.failed', payload: { error: result.error ?? { message } }, error: message },
  ];
}
