/**
 * A real client process for backpressure tests (tests SIGSTOP it): connects to the daemon,
 * subscribes to the topics given for one run, and prints one JSON line per event — each
 * notification's method (and runId, or the resync's `dropped`), and how the connection ended.
 *   node notification-recorder.ts SOCKET RUN_ID TOPIC[,TOPIC…]
 * It runs until the daemon closes the connection or it gets SIGTERM.
 */
import WebSocket from 'ws';

const [socket, runId, topics] = process.argv.slice(2);
if (!socket || !runId || !topics) throw new Error('usage: notification-recorder.ts SOCKET RUN_ID TOPICS');

const ws = new WebSocket(`ws+unix://${socket}:/`, { maxPayload: 64 * 1024 * 1024 });
const say = (event: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(event) + '\n');
};

ws.on('open', () => {
  ws.send(JSON.stringify({ id: 1, method: 'initialize', params: { protocolVersion: 1, client: { name: 'recorder', version: '0' } } }));
  ws.send(JSON.stringify({ id: 2, method: 'subscriptions/add', params: { topics: topics.split(','), runIds: [runId] } }));
});
ws.on('message', (data: Buffer) => {
  const m = JSON.parse(data.toString('utf8')) as { id?: number; method?: string; params?: { runId?: string; dropped?: unknown } };
  if (m.id === 2) say({ subscribed: true });
  else if (m.method === 'notify/resync') say({ method: m.method, dropped: m.params?.dropped });
  else if (m.method) say({ method: m.method, runId: m.params?.runId ?? null });
});
ws.on('close', (code: number, reason: Buffer) => {
  say({ closed: code, reason: reason.toString('utf8') });
  process.exit(0);
});
ws.on('error', (err: Error) => say({ error: err.message }));
process.on('SIGTERM', () => process.exit(0));
