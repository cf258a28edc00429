import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JobSlots, WorkQueue } from './work-queue.ts';

const noErrors = (key: string, err: unknown): void => assert.fail(`${key}: ${String(err)}`);

describe('work queues', () => {
  it('a stuck job in one project\'s queue never holds up another project\'s', async () => {
    const slots = new JobSlots(2);
    const a = new WorkQueue({ quietMs: 0, maxWaitMs: 0, slots, onError: noErrors });
    const b = new WorkQueue({ quietMs: 0, maxWaitMs: 0, slots, onError: noErrors });
    let unstick = (): void => {};
    const stuck = new Promise<void>((resolve) => (unstick = resolve));
    const done: string[] = [];
    a.schedule('huge dataset', () => stuck, true);
    a.schedule('a config', () => { done.push('a config'); return Promise.resolve(); }, true);
    await new Promise((r) => setTimeout(r, 20));
    b.schedule('b config', () => { done.push('b config'); return Promise.resolve(); }, true);
    await b.idle();
    assert.deepEqual(done, ['b config'], 'b ran while a was stuck; a\'s next job waits behind a\'s stuck one');
    assert.equal(slots.running, 1);
    unstick();
    await a.idle();
    assert.deepEqual(done, ['b config', 'a config']);
    assert.equal(slots.running, 0);
  });

  it('slots cap the jobs running at once across queues, and hand over in arrival order', async () => {
    const slots = new JobSlots(2);
    let running = 0;
    let peak = 0;
    const job = async (): Promise<void> => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
    };
    const queues = Array.from({ length: 5 }, () => new WorkQueue({ quietMs: 0, maxWaitMs: 0, slots, onError: noErrors }));
    queues.forEach((q, i) => { for (let k = 0; k < 3; k++) q.schedule(`${i}:${k}`, job, true); });
    await new Promise((r) => setTimeout(r, 5));
    await Promise.all(queues.map((q) => q.idle()));
    assert.equal(peak, 2);
    assert.equal(slots.running, 0);
  });

  it('close drops pending work and waits for the running job', async () => {
    const q = new WorkQueue({ quietMs: 0, maxWaitMs: 0, onError: noErrors });
    const ran: string[] = [];
    q.schedule('first', async () => { await new Promise((r) => setTimeout(r, 30)); ran.push('first'); }, true);
    q.schedule('later', () => { ran.push('later'); return Promise.resolve(); }, false);
    await new Promise((r) => setTimeout(r, 5));
    await q.close();
    assert.deepEqual(ran, ['first']);
    assert.equal(q.isIdle(), true);
  });
});
