import { useEffect, useRef, useState } from 'preact/hooks';
import { openStream } from '../api/stream.js';
import type { WireEvent } from '../api/types.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'off';

/**
 * Subscribes to an event stream while mounted. When the server has no stream route (404) the
 * state becomes `polling`: the caller then refreshes on a timer.
 */
export function useEventStream(
  path: string | null,
  onEvent: (ev: WireEvent) => void,
  lastEventId: () => string | null = () => null,
): LiveState {
  const [state, setState] = useState<LiveState>(path ? 'connecting' : 'off');
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const last = useRef(lastEventId);
  last.current = lastEventId;
  useEffect(() => {
    if (!path) {
      setState('off');
      return undefined;
    }
    setState('connecting');
    const h = openStream(path, {
      lastEventId: last.current(),
      onEvent: (ev) => handler.current(ev),
      onUnsupported: () => setState('polling'),
      onState: (live) => setState(live ? 'live' : 'reconnecting'),
    });
    return () => h.close();
  }, [path]);
  return state;
}

export function LiveBadge({ state }: { state: LiveState }) {
  const text: Record<LiveState, string> = {
    connecting: 'connecting…',
    live: 'live',
    reconnecting: 'reconnecting…',
    polling: 'refreshing every 2 s',
    off: 'not live',
  };
  return (
    <span class={`live live-${state}`} role="status" aria-live="polite">
      {text[state]}
    </span>
  );
}
