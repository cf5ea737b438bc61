// A running step's output reaches the server in chunks (`command.heartbeat` events with
// `output.lines`), at most every 500 ms and only when it prints; `noetl logs` shows each line once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutputChunks, type OutputChunk } from '../../src/worker/output-chunks.js';
import { noetl } from '../helpers/cli.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const line = (text: string) => ({ ts: new Date().toISOString(), stream: 'stdout' as const, text });

describe('OutputChunks', () => {
  it('sends nothing without output, then at most one chunk per interval, in order', async () => {
    const sent: { at: number; chunk: OutputChunk }[] = [];
    const chunks = new OutputChunks((chunk) => {
      sent.push({ at: Date.now(), chunk });
      return Promise.resolve();
    }, 100);
    chunks.open(Promise.resolve());
    await sleep(250);
    expect(sent).toEqual([]);
    for (let i = 0; i < 20; i++) {
      chunks.push(line(`l${i}`));
      await sleep(20);
    }
    await sleep(150);
    await chunks.stop();
    const texts = sent.flatMap((s) => s.chunk.lines.map((l) => l.text));
    expect(texts).toEqual(Array.from({ length: 20 }, (_, i) => `l${i}`));
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(sent.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < sent.length; i++) {
      expect((sent[i] as { at: number }).at - (sent[i - 1] as { at: number }).at).toBeGreaterThanOrEqual(95);
    }
  });

  it('keeps the newest lines of a chunk over its bound and drops what is unsent on stop', async () => {
    const sent: OutputChunk[] = [];
    const chunks = new OutputChunks((c) => Promise.resolve(sent.push(c)), 50, 10);
    chunks.push(line('aaaaaa'));
    chunks.push(line('bbbbbb'));
    chunks.open(Promise.resolve());
    await sleep(120);
    expect(sent).toEqual([
      { lines: [expect.objectContaining({ text: 'bbbbbb' })], truncated: { lines: 1, bytes: 6 } },
    ]);
    chunks.push(line('never'));
    await chunks.stop();
    await sleep(80);
    expect(sent).toHaveLength(1);
  });
});

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: chatty, path: tests/chunks/chatty }
workflow:
  - step: start
    tool: { kind: shell, command: "sleep 1" }
    next: [ talk ]
  - step: talk
    tool: { kind: shell, command: "echo one; sleep 1.5; echo two; sleep 1.5; echo three" }
`;

interface Ev {
  event_id: string;
  event_type: string;
  node_name: string;
  created_at: string;
  result?: { context?: { output?: { lines?: { text: string }[] } } };
}

describe('live output chunks on an embedded server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.register(PLAYBOOK);
  }, 60_000);
  afterAll(async () => server?.stop());

  it('shows a running step’s first line before it ends; a silent step sends no chunk', async () => {
    const id = (
      await server.post<{ execution_id: string }>('/api/execute', {
        path: 'tests/chunks/chatty',
        payload: {},
      })
    ).body.execution_id;
    let seenWhileRunning = false;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const page = (
        await server.get<{ status: string; events: Ev[] }>(`/api/executions/${id}/events?limit=1000`)
      ).body;
      const chunkTexts = page.events
        .filter((e) => e.event_type === 'command.heartbeat')
        .flatMap((e) => e.result?.context?.output?.lines?.map((l) => l.text) ?? []);
      const talkDone = page.events.some((e) => e.node_name === 'talk' && e.event_type === 'call.done');
      if (chunkTexts.includes('one') && !talkDone) seenWhileRunning = true;
      if (page.status.toUpperCase() !== 'RUNNING' || Date.now() > deadline) break;
      await sleep(100);
    }
    expect(seenWhileRunning).toBe(true);
    const all = (
      await server.get<{ status: string; events: Ev[] }>(`/api/executions/${id}/events?limit=1000`)
    ).body;
    expect(all.status.toUpperCase()).toBe('COMPLETED');
    const beats = all.events.filter((e) => e.event_type === 'command.heartbeat');
    expect(beats.every((e) => e.node_name === 'talk')).toBe(true);
    expect(beats.flatMap((e) => e.result?.context?.output?.lines?.map((l) => l.text) ?? [])).toEqual(
      expect.arrayContaining(['one', 'two']),
    );
    // `noetl logs` prints each line once: chunks first, the rest from call.done.
    const logs = await noetl(['logs', id], {
      env: { NOETL_SERVER_URL: server.url, NOETL_HOME: server.home },
    });
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout.trim().split('\n')).toEqual(['[talk] | one', '[talk] | two', '[talk] | three']);
  }, 60_000);
});
